"""The metrics on the fakes: a small game computed by hand (tests/metrics_game.py), the filters, the balances'
sampling, and the barrel offers recorded once per tick. `tests/integration/test_metrics.py` holds the SQL to the
same answers."""

from __future__ import annotations

import pytest

from domain.metrics import Metric, MetricsQuery
from service_layer import services, views
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.helpers import SMALL_RED, WHOLESALE
from tests.metrics_game import BALANCES, EXPECTED, balances_by_tick, play


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
    services.open_shop(FakeUnitOfWork(store))
    return store


def rows(store: FakeStore, metric: Metric, query: MetricsQuery | None = None) -> list[dict[str, object]]:
    return views.metric(metric, query or MetricsQuery(), FakeUnitOfWork(store))["rows"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_each_metric_of_a_small_game_is_what_was_computed_by_hand(store, metric):
    play(lambda: FakeUnitOfWork(store))
    assert rows(store, metric) == EXPECTED[metric]


def test_the_balances_are_those_at_the_end_of_each_tick(store):
    play(lambda: FakeUnitOfWork(store))
    assert balances_by_tick(rows(store, Metric.BALANCES)) == BALANCES


def test_the_balances_keep_every_kth_tick_and_the_last_within_the_points_asked_for(store):
    play(lambda: FakeUnitOfWork(store))
    two = balances_by_tick(rows(store, Metric.BALANCES, MetricsQuery(points=2)))
    one = balances_by_tick(rows(store, Metric.BALANCES, MetricsQuery(points=1)))
    assert list(two) == [("Edgeday", 0), ("Bloomday", 0)]
    assert list(one) == [("Edgeday", 0), ("Bloomday", 0)]  # the first, and always the last


def test_filters_by_game_day_hour_and_wall_time(store):
    between = play(lambda: FakeUnitOfWork(store))
    sales = EXPECTED[Metric.SALES_BY_HOUR]
    assert rows(store, Metric.SALES_BY_HOUR, MetricsQuery(day="Edgeday")) == sales[:2]
    assert rows(store, Metric.SALES_BY_HOUR, MetricsQuery(hour=0)) == [sales[0], sales[2]]
    assert rows(store, Metric.SALES_BY_HOUR, MetricsQuery(since=between)) == [sales[2]]
    assert rows(store, Metric.SALES_BY_HOUR, MetricsQuery(until=between)) == sales[:2]
    assert rows(store, Metric.PROFIT, MetricsQuery(since=between)) == [EXPECTED[Metric.PROFIT][1]]
    assert rows(store, Metric.CONVERSION, MetricsQuery(since=between)) == EXPECTED[Metric.CONVERSION][2:]
    assert rows(store, Metric.CONVERSION, MetricsQuery(until=between)) == EXPECTED[Metric.CONVERSION][:2]
    assert rows(store, Metric.BARREL_OFFERS, MetricsQuery(hour=2)) == EXPECTED[Metric.BARREL_OFFERS][2:]
    assert rows(store, Metric.BUYERS, MetricsQuery(day="Nosuchday")) == []
    assert balances_by_tick(rows(store, Metric.BALANCES, MetricsQuery(since=between))) == {
        ("Bloomday", 0): BALANCES[("Bloomday", 0)]
    }


def test_a_new_shop_has_no_metrics_but_its_balances_once_the_clock_runs(store):
    for metric in Metric:
        assert rows(store, metric) == []
    services.set_time("Edgeday", 0, None, FakeUnitOfWork(store))
    assert balances_by_tick(rows(store, Metric.BALANCES)) == {
        ("Edgeday", 0): {"gold": 100, "potion_capacity": 1, "ml_capacity": 1}
    }


def test_the_barrel_plan_records_the_offers_once_per_tick_and_answers_the_same_each_time(store):
    uow = FakeUnitOfWork(store)
    assert services.plan_barrels(WHOLESALE, uow) == services.plan_barrels(WHOLESALE, uow)
    assert store.offers == []  # no game time yet: nothing to record it at
    services.set_time("Edgeday", 0, None, uow)
    services.plan_barrels(WHOLESALE, uow)
    services.plan_barrels(WHOLESALE, uow)
    assert len(store.offers) == len(WHOLESALE)
    services.set_time("Edgeday", 2, None, uow)
    services.plan_barrels([SMALL_RED], uow)
    assert len(store.offers) == len(WHOLESALE) + 1
    assert sum(r["offers"] for r in rows(store, Metric.BARREL_OFFERS)) == len(WHOLESALE) + 1


def test_aracanaday_sorts_as_arcanaday_and_other_names_after_the_week():
    from domain.metrics import day_order

    days = ["Soulday", "Moonday", "Aracanaday", "Edgeday", "Hearthday"]
    assert sorted(days, key=day_order) == ["Edgeday", "Aracanaday", "Hearthday", "Soulday", "Moonday"]
    assert day_order("Aracanaday")[0] == day_order("Arcanaday")[0] == 2
