"""The same random game on SQLite and on PostgreSQL: every metric the same on both, under each filter (the balances'
wall times aside, which differ between two plays). The metrics are one SQL text for both backends
(adapters/metrics.py); the small game computed by hand (test_metrics.py) holds them to the right answers."""

from __future__ import annotations

import dataclasses
import json
import random
from collections.abc import Callable

import pytest

from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from domain.carts import Customer
from domain.clock import DAYS
from domain.errors import ShopError
from domain.metrics import Metric, MetricsQuery
from domain.potions import DEFAULT_POTIONS
from service_layer import services, views
from service_layer.unit_of_work import AbstractUnitOfWork
from tests.helpers import API_KEY, WHOLESALE

CUSTOMERS = [
    Customer(f"c-{i}", f"Customer {i}", cls, species, 1 + i % 20)
    for i, (cls, species) in enumerate(
        [("Wizard", "Elf"), ("Bard", "Human"), ("Rogue", "Orc"), ("Wizard", "Human"), ("Druid", "Gnome")]
    )
]


def random_game(seed: int, new_uow: Callable[[], AbstractUnitOfWork]) -> None:
    rng = random.Random(seed)
    for step in range(60):
        what = rng.choice(["tick", "plan", "plan", "barrels", "bottle", "visit", "sale", "sale", "capacity"])
        try:
            if what == "tick":
                services.set_time(rng.choice(DAYS[:3]), rng.choice([0, 2, 4]), None, new_uow())
            elif what == "plan":
                services.plan_barrels(rng.sample(WHOLESALE, 3), new_uow())
            elif what == "barrels":
                services.deliver_barrels(
                    f"o-{step}", [dataclasses.replace(rng.choice(WHOLESALE), quantity=1)], new_uow()
                )
            elif what == "bottle":
                services.deliver_bottles(f"b-{step}", [(rng.choice(DEFAULT_POTIONS).potion_type, 2)], new_uow())
            elif what == "visit":
                services.record_visit(f"v-{step}", rng.sample(CUSTOMERS, 2), new_uow())
            elif what == "capacity":
                services.deliver_capacity(f"c-{step}", 1, 0, new_uow())
            else:
                cart = json.loads(services.create_cart(rng.choice(CUSTOMERS), None, new_uow()).body)["cart_id"]
                for sku in rng.sample([p.sku for p in DEFAULT_POTIONS], 2):
                    services.set_item_quantity(cart, sku, 1, None, new_uow())
                services.checkout(cart, "gold", new_uow())
        except ShopError:
            pass  # refused alike on both backends (tests/integration/test_fakes_match.py holds them to it)


def metrics(new_uow: Callable[[], AbstractUnitOfWork]) -> dict[object, object]:
    found: dict[object, object] = {}
    for metric in Metric:
        queries = (
            [MetricsQuery(), MetricsQuery(points=3)]
            if metric is Metric.BALANCES
            else [
                MetricsQuery(),
                MetricsQuery(day=DAYS[1]),
                MetricsQuery(hour=2),
            ]
        )
        for query in queries:
            rows = views.metric(metric, query, new_uow())["rows"]
            for row in rows:
                row.pop("at", None)  # the wall time of a tick: another play, another time
                if "gold_per_ml" in row:
                    row["gold_per_ml"] = round(row["gold_per_ml"], 9)
            found[(metric, query)] = rows
    return found


@pytest.mark.parametrize("seed", [1, 2])
def test_random_games_give_the_same_metrics_on_sqlite_and_postgresql(sqlite_url, pg_url, seed):
    found = []
    for url in (sqlite_url, pg_url):
        wiring = bootstrap(Config(url, API_KEY))
        random_game(seed, wiring.uow_factory)
        found.append(metrics(wiring.uow_factory))
        wiring.engine.dispose()
    on_sqlite, on_postgres = found
    assert any(on_sqlite[(m, MetricsQuery())] for m in (Metric.SALES_BY_HOUR, Metric.BARREL_OFFERS))
    for key, rows in on_sqlite.items():
        assert sorted(map(repr, on_postgres[key])) == sorted(map(repr, rows)), key
