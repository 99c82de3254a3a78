"""The metrics' SQL (adapters/metrics.py) on SQLite and PostgreSQL, where the metrics are tested (the fakes compute
none): the small game computed by hand (tests/metrics_game.py) gives exactly its rows, filters and the balances'
sampling included; game days come in the week's order; the barrel offers are recorded once per tick and are
append-only; `ledger verify` holds each rollup to the facts it sums."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from adapters.verification import verify
from domain.clock import utcnow
from domain.metrics import Metric, MetricsQuery
from service_layer import services, views
from tests.helpers import ALICE, SMALL_RED, WHOLESALE
from tests.metrics_game import BALANCES, EXPECTED, balances_by_tick, buy, play


def rows(wiring, metric, query=None):
    return views.metric(metric, query or MetricsQuery(), wiring.uow_factory())["rows"]


def offers(wiring) -> int:
    """How many barrel offers are recorded."""
    with wiring.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM barrel_offers")).scalar_one())


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
    assert rows(wiring, Metric.CONVERSION, MetricsQuery(since=between)) == EXPECTED[Metric.CONVERSION][2:]
    assert rows(wiring, Metric.CONVERSION, MetricsQuery(until=between)) == EXPECTED[Metric.CONVERSION][:2]
    assert rows(wiring, Metric.BUYERS, MetricsQuery(until=between, hour=2)) == [
        {"class": "Bard", "species": "Human", "level": 3, "sku": "RED_POTION", "checkouts": 1, "potions": 1, "gold": 50}
    ]
    assert balances_by_tick(rows(wiring, Metric.BALANCES, MetricsQuery(since=between))) == {
        ("Bloomday", 0): BALANCES[("Bloomday", 0)]
    }


def test_the_balances_keep_every_kth_tick_and_the_last_within_the_points_asked_for(wiring):
    play(wiring.uow_factory)
    two = balances_by_tick(rows(wiring, Metric.BALANCES, MetricsQuery(points=2)))
    one = balances_by_tick(rows(wiring, Metric.BALANCES, MetricsQuery(points=1)))
    assert list(two) == [("Edgeday", 0), ("Bloomday", 0)]
    assert list(one) == [("Edgeday", 0), ("Bloomday", 0)]  # the first, and always the last


def test_filters_by_game_day_hour_and_wall_time(wiring):
    between = play(wiring.uow_factory)
    sales = EXPECTED[Metric.SALES_BY_HOUR]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(day="Edgeday")) == sales[:2]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(hour=0)) == [sales[0], sales[2]]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(since=between)) == [sales[2]]
    assert rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(until=between)) == sales[:2]
    assert rows(wiring, Metric.PROFIT, MetricsQuery(since=between)) == [EXPECTED[Metric.PROFIT][1]]
    assert rows(wiring, Metric.CONVERSION, MetricsQuery(since=between)) == EXPECTED[Metric.CONVERSION][2:]
    assert rows(wiring, Metric.CONVERSION, MetricsQuery(until=between)) == EXPECTED[Metric.CONVERSION][:2]
    assert rows(wiring, Metric.BARREL_OFFERS, MetricsQuery(hour=2)) == EXPECTED[Metric.BARREL_OFFERS][2:]
    assert rows(wiring, Metric.BUYERS, MetricsQuery(day="Nosuchday")) == []
    assert balances_by_tick(rows(wiring, Metric.BALANCES, MetricsQuery(since=between))) == {
        ("Bloomday", 0): BALANCES[("Bloomday", 0)]
    }


def test_a_new_shop_has_no_metrics_but_its_balances_once_the_clock_runs(wiring):
    for metric in Metric:
        assert rows(wiring, metric) == []
    services.set_time("Edgeday", 0, None, wiring.uow_factory())
    assert balances_by_tick(rows(wiring, Metric.BALANCES)) == {
        ("Edgeday", 0): {"gold": 100, "potion_capacity": 1, "ml_capacity": 1}
    }


def test_the_barrel_plan_records_the_offers_once_per_tick_and_answers_the_same_each_time(wiring):
    uow = wiring.uow_factory
    assert services.plan_barrels(WHOLESALE, uow()) == services.plan_barrels(WHOLESALE, uow())
    assert offers(wiring) == 0  # no game time yet: nothing to record it at
    services.set_time("Edgeday", 0, None, uow())
    services.plan_barrels(WHOLESALE, uow())
    services.plan_barrels(WHOLESALE, uow())
    assert offers(wiring) == len(WHOLESALE)
    services.set_time("Edgeday", 2, None, uow())
    services.plan_barrels([SMALL_RED], uow())
    assert offers(wiring) == len(WHOLESALE) + 1
    assert sum(r["offers"] for r in rows(wiring, Metric.BARREL_OFFERS)) == len(WHOLESALE) + 1


def test_offers_are_recorded_once_per_tick_whatever_the_plan_calls(wiring):
    first = services.plan_barrels(WHOLESALE, wiring.uow_factory())
    assert offers(wiring) == 0  # before the game's first tick
    services.set_time("Edgeday", 0, None, wiring.uow_factory())
    for _ in range(3):
        assert services.plan_barrels(WHOLESALE, wiring.uow_factory()) == first
    assert offers(wiring) == len(WHOLESALE)
    services.set_time("Edgeday", 0, None, wiring.uow_factory())  # the clock set again: a new tick
    services.plan_barrels(WHOLESALE[:2], wiring.uow_factory())
    assert offers(wiring) == len(WHOLESALE) + 2


@pytest.mark.parametrize("statement", ["UPDATE barrel_offers SET price = 0", "DELETE FROM barrel_offers"])
def test_barrel_offers_are_append_only(wiring, statement):
    services.set_time("Edgeday", 0, None, wiring.uow_factory())
    services.plan_barrels(WHOLESALE, wiring.uow_factory())
    with pytest.raises(DatabaseError, match="append-only|refuse"), wiring.engine.begin() as conn:
        conn.execute(text(statement))


SHIFTED = [  # (potion, how long before its sale the copy is stamped): lines in other wall-clock hours
    ("GREEN_POTION", timedelta(hours=3)),
    ("BLUE_POTION", timedelta(minutes=90)),
    ("DARK_POTION", timedelta(minutes=61)),
    ("TEAL_POTION", timedelta(minutes=30)),
    ("PURPLE_POTION", timedelta(hours=26, minutes=1)),
]


def test_the_rollups_and_the_edges_add_up_to_the_lines_in_any_window(wiring):
    """Lines written by raw SQL at times in several hours and on two days (the triggers roll them up as a checkout's
    are), then windows starting and ending on and between hour and day boundaries: the sums equal the lines' own."""
    play(wiring.uow_factory)
    with wiring.engine.begin() as conn:
        for sku, before in SHIFTED:
            conn.execute(
                text(
                    "INSERT INTO sale_lines (account_transaction_id, cart_id, sku, potion_name, item_sku, quantity, "
                    "unit_price, total, customer_id, customer_name, character_class, character_species, level, "
                    "created_at, game_day, game_hour) "
                    "SELECT account_transaction_id, cart_id, :sku, potion_name, item_sku, quantity, unit_price, "
                    "total, customer_id, customer_name, character_class, character_species, level, :at, game_day, "
                    "game_hour FROM sale_lines WHERE id = 1"
                ),
                {"sku": sku, "at": utcnow() - before},
            )
        lines = conn.execute(
            text(
                "SELECT game_day, game_hour, sku, quantity, total, created_at, character_class, character_species, "
                "level FROM sale_lines"
            )
        ).all()
    stamps = [make_naive(row.created_at) for row in lines]
    hours = {s.replace(minute=0, second=0, microsecond=0) for s in stamps}
    days = {h.replace(hour=0) for h in hours}
    moments = sorted(
        {
            None,
            *hours,
            *(h + timedelta(hours=1) for h in hours),
            *days,
            *(d + timedelta(days=1) for d in days),
            *(s.replace(microsecond=0) for s in stamps),
        },
        key=lambda m: (m is not None, m),
    )
    for since in moments:
        for until in moments:
            expected: Counter[tuple[str, int, str]] = Counter()
            bought: Counter[tuple[str, str, int, str]] = Counter()
            for row, at in zip(lines, stamps, strict=True):
                if (since is None or at >= since) and (until is None or at <= until):
                    expected[(row.game_day, row.game_hour, row.sku)] += row.quantity
                    bought[(row.character_class, row.character_species, row.level, row.sku)] += row.quantity
            buyers = rows(wiring, Metric.BUYERS, MetricsQuery(since=since, until=until))
            assert {(r["class"], r["species"], r["level"], r["sku"]): r["potions"] for r in buyers} == dict(bought)
            found = rows(wiring, Metric.SALES_BY_HOUR, MetricsQuery(since=since, until=until))
            assert {(r["day"], r["hour"], r["sku"]): r["potions"] for r in found} == dict(expected), (since, until)
            revenue = sum(r["revenue"] for r in rows(wiring, Metric.PROFIT, MetricsQuery(since=since, until=until)))
            assert revenue == sum(r["gold"] for r in found), (since, until)


def make_naive(at: object) -> datetime:
    return at if isinstance(at, datetime) else datetime.fromisoformat(str(at))


def test_profit_counts_what_the_suppliers_and_builders_received_per_tick_corrections_included(wiring):
    """Spend is read from the counter-accounts' running balances at the ends of each tick: a correction of what the
    suppliers were paid is barrel spend of the tick it was booked in; `until` cuts a tick's spend where it says."""
    between = play(wiring.uow_factory)
    assert rows(wiring, Metric.PROFIT, MetricsQuery(until=between)) == EXPECTED[Metric.PROFIT][:1]
    services.correct("suppliers/gold", 20, "the barrels cost 20 more than booked", "k-20", wiring.uow_factory())
    edgeday, bloomday = EXPECTED[Metric.PROFIT]
    assert rows(wiring, Metric.PROFIT) == [edgeday, {**bloomday, "barrels": 20, "profit": bloomday["profit"] - 20}]
    assert rows(wiring, Metric.PROFIT, MetricsQuery(until=between)) == [edgeday]


@pytest.mark.parametrize(
    ("rollup", "tamper"),
    [
        ("sales_hourly", "UPDATE sales_hourly SET gold = gold + 1 WHERE sku = 'RED_POTION'"),
        ("checkouts_hourly", "UPDATE checkouts_hourly SET carts = carts + 1"),
        ("visits_hourly", "DELETE FROM visits_hourly WHERE game_hour = 0"),
        ("buyers_daily", "UPDATE buyers_daily SET lines = lines + 1 WHERE character_class = 'Bard'"),
    ],
)
def test_verify_finds_a_rollup_that_drifted_from_the_facts_it_sums(wiring, rollup, tamper):
    play(wiring.uow_factory)
    with wiring.engine.connect() as conn:
        report = verify(conn)
        assert report.ok, report.lines()  # what the triggers kept is what the facts add up to, on both backends
        assert conn.execute(text(f"SELECT COUNT(*) FROM {rollup}")).scalar_one() > 0
        conn.execute(text(tamper))
        drifted = [f for f in verify(conn).findings if not f.ok]
        assert [f.check.name for f in drifted] == [rollup]
        assert drifted[0].problems >= 1
        conn.rollback()


def test_aracanaday_the_templates_spelling_is_the_third_day_wherever_days_are_ordered(wiring):
    for day in ("Hearthday", "Aracanaday", "Bloomday"):
        services.set_time(day, 0, None, wiring.uow_factory())
        services.plan_barrels(WHOLESALE[:1], wiring.uow_factory())
    assert [row["day"] for row in rows(wiring, Metric.BARREL_OFFERS)] == ["Bloomday", "Aracanaday", "Hearthday"]


def test_every_metric_by_day_orders_the_week_either_spelling_of_day_3_third_and_other_names_after_it(wiring):
    """Each tick a barrel offered and a potion sold; the metrics with a game day list the days in the week's order
    (Aracanaday, the course template's spelling, and Arcanaday both as day 3, by name between them), then the days
    the week does not know, by name."""
    services.correct("shop/potion:RED_POTION", 10, "stock", "stock", wiring.uow_factory())
    for day in ("Soulday", "Moonday", "Arcanaday", "Aracanaday", "Edgeday", "Hearthday", "Duskday"):
        services.set_time(day, 0, None, wiring.uow_factory())
        services.plan_barrels(WHOLESALE[:1], wiring.uow_factory())
        buy(wiring.uow_factory, ALICE, 1)
    week = ["Edgeday", "Aracanaday", "Arcanaday", "Hearthday", "Soulday", "Duskday", "Moonday"]
    for metric in (Metric.SALES_BY_HOUR, Metric.BARREL_OFFERS, Metric.CONVERSION, Metric.PROFIT):
        assert [row["day"] for row in rows(wiring, metric)] == week, metric
