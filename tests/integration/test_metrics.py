"""The metrics' SQL (adapters/metrics.py) on SQLite and PostgreSQL: the small game computed by hand gives exactly
the rows the fakes give, filters included; the barrel offers are recorded once per tick and are append-only."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from domain.metrics import Metric, MetricsQuery
from service_layer import services, views
from tests.helpers import WHOLESALE
from tests.metrics_game import BALANCES, EXPECTED, balances_by_tick, play


def rows(wiring, metric, query=None):
    return views.metric(metric, query or MetricsQuery(), wiring.uow_factory())["rows"]


def test_each_metric_of_a_small_game_is_what_was_computed_by_hand(wiring):
    between = play(wiring.uow_factory)
    for metric, expected in EXPECTED.items():
        assert rows(wiring, metric) == [pytest.approx(row) for row in expected], metric  # gold per ml is a float
    assert balances_by_tick(rows(wiring, Metric.BALANCES)) == BALANCES
    assert list(balances_by_tick(rows(wiring, Metric.BALANCES, MetricsQuery(points=2)))) == [
        ("Edgeday", 0),
        ("Bloomday", 0),
    ]
    sales = EXPECTED[Metric.SALES_BY_HOUR]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(day="Edgeday")) == sales[:2]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(hour=0)) == [sales[0], sales[2]]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(since=between)) == [sales[2]]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(until=between)) == sales[:2]
    assert rows(wiring, Metric.CONVERSION, MetricsQuery(day="Edgeday", hour=0)) == EXPECTED[Metric.CONVERSION][:1]
    assert rows(wiring, Metric.PROFIT, MetricsQuery(since=between)) == EXPECTED[Metric.PROFIT][1:]
    assert rows(wiring, Metric.BUYERS, MetricsQuery(until=between, hour=2)) == [
        {"class": "Bard", "species": "Human", "level": 3, "sku": "RED_POTION", "checkouts": 1, "potions": 1, "gold": 50}
    ]
    assert balances_by_tick(rows(wiring, Metric.BALANCES, MetricsQuery(since=between))) == {
        ("Bloomday", 0): BALANCES[("Bloomday", 0)]
    }


def test_offers_are_recorded_once_per_tick_whatever_the_plan_calls(wiring):
    def offers() -> int:
        with wiring.engine.connect() as conn:
            return int(conn.execute(text("SELECT COUNT(*) FROM barrel_offers")).scalar_one())

    first = services.plan_barrels(WHOLESALE, wiring.uow_factory())
    assert offers() == 0  # before the game's first tick
    services.set_time("Edgeday", 0, None, wiring.uow_factory())
    for _ in range(3):
        assert services.plan_barrels(WHOLESALE, wiring.uow_factory()) == first
    assert offers() == len(WHOLESALE)
    services.set_time("Edgeday", 0, None, wiring.uow_factory())  # the clock set again: a new tick
    services.plan_barrels(WHOLESALE[:2], wiring.uow_factory())
    assert offers() == len(WHOLESALE) + 2


@pytest.mark.parametrize("statement", ["UPDATE barrel_offers SET price = 0", "DELETE FROM barrel_offers"])
def test_barrel_offers_are_append_only(wiring, statement):
    services.set_time("Edgeday", 0, None, wiring.uow_factory())
    services.plan_barrels(WHOLESALE, wiring.uow_factory())
    with pytest.raises(DatabaseError, match="append-only|refuse"), wiring.engine.begin() as conn:
        conn.execute(text(statement))
