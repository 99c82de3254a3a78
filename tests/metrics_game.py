"""A small game whose metrics are computed by hand: played through the services on both databases, whose metrics
must give exactly `EXPECTED` (tests/integration/test_metrics.py, and over HTTP test_read_routes.py)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from domain.carts import Customer
from domain.clock import GameTime, utcnow
from domain.metrics import Metric
from domain.planners import Shelf
from domain.potions import PotionType
from service_layer import services
from service_layer.unit_of_work import AbstractUnitOfWork
from tests.helpers import ALICE, BLUE, barrel

BOB = Customer("c-2", "Bob", "Bard", "Human", 3)
SMALL_RED = barrel("SMALL_RED_BARREL", 500, price=100, quantity=10)
MINI_BLUE = barrel("MINI_BLUE_BARREL", 200, BLUE, 60, 5)
DEARER_RED = barrel("SMALL_RED_BARREL", 500, price=120, quantity=10)
RED = PotionType(100, 0, 0, 0)


def play(new_uow: Callable[[], AbstractUnitOfWork]) -> datetime:
    """Play the game; return a moment between Edgeday 2's sale and Bloomday."""
    services.plan_barrels([SMALL_RED, MINI_BLUE], new_uow())  # before the first tick: not recorded
    _tick(new_uow, "Edgeday", 0)
    first = services.plan_barrels([SMALL_RED, MINI_BLUE], new_uow())
    assert services.plan_barrels([SMALL_RED, MINI_BLUE], new_uow()) == first  # recorded once, same reply
    services.deliver_barrels("o-1", [barrel("SMALL_RED_BARREL", 500, price=100, quantity=1)], new_uow())
    services.deliver_bottles("b-1", [(RED, 5)], new_uow())
    services.record_visit("v-1", [ALICE, BOB], new_uow())
    buy(new_uow, ALICE, 2)
    _tick(new_uow, "Edgeday", 2)
    services.plan_barrels([DEARER_RED], new_uow())
    buy(new_uow, BOB, 1)
    between = utcnow()
    _tick(new_uow, "Bloomday", 0)
    services.correct("shop/gold", 2000, "a loan", "loan-1", new_uow())
    services.deliver_capacity("c-1", 1, 0, new_uow())
    buy(new_uow, ALICE, 1)
    return between


def _tick(new_uow: Callable[[], AbstractUnitOfWork], day: str, hour: int) -> None:
    """A new tick whose shelf asks the list prices, so that the metrics can be computed by hand (what the planner
    would choose is tests/unit/test_planners.py's)."""
    with new_uow() as uow:
        uow.clock.set(GameTime(day, hour))
        uow.shelf.record(Shelf(("RED_POTION",), {p.sku: p.price for p in uow.potions.list()}))
        uow.commit()


def buy(new_uow: Callable[[], AbstractUnitOfWork], customer: Customer, reds: int) -> None:
    import json

    cart_id = json.loads(services.create_cart(customer, None, new_uow()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", reds, None, new_uow())
    services.checkout(cart_id, "gold", new_uow())


EXPECTED: dict[Metric, list[dict[str, object]]] = {
    Metric.SALES_BY_HOUR: [
        {"day": "Edgeday", "hour": 0, "sku": "RED_POTION", "potions": 2, "gold": 100},
        {"day": "Edgeday", "hour": 2, "sku": "RED_POTION", "potions": 1, "gold": 50},
        {"day": "Bloomday", "hour": 0, "sku": "RED_POTION", "potions": 1, "gold": 50},
    ],
    Metric.BARREL_OFFERS: [
        {
            "day": "Edgeday",
            "hour": 0,
            "sku": "MINI_BLUE_BARREL",
            "liquid": "blue",
            "ml_per_barrel": 200,
            "offers": 1,
            "min_price": 60,
            "max_price": 60,
            "barrels": 5,
            "gold_per_ml": 0.3,
        },
        {
            "day": "Edgeday",
            "hour": 0,
            "sku": "SMALL_RED_BARREL",
            "liquid": "red",
            "ml_per_barrel": 500,
            "offers": 1,
            "min_price": 100,
            "max_price": 100,
            "barrels": 10,
            "gold_per_ml": 0.2,
        },
        {
            "day": "Edgeday",
            "hour": 2,
            "sku": "SMALL_RED_BARREL",
            "liquid": "red",
            "ml_per_barrel": 500,
            "offers": 1,
            "min_price": 120,
            "max_price": 120,
            "barrels": 10,
            "gold_per_ml": 0.24,
        },
    ],
    Metric.BUYERS: [
        {
            "class": "Bard",
            "species": "Human",
            "level": 3,
            "sku": "RED_POTION",
            "checkouts": 1,
            "potions": 1,
            "gold": 50,
        },
        {
            "class": "Wizard",
            "species": "Elf",
            "level": 7,
            "sku": "RED_POTION",
            "checkouts": 2,
            "potions": 3,
            "gold": 150,
        },
    ],
    Metric.CONVERSION: [
        {"day": "Edgeday", "hour": 0, "visitors": 2, "checkouts": 1, "potions": 2, "gold": 100},
        {"day": "Edgeday", "hour": 2, "visitors": 0, "checkouts": 1, "potions": 1, "gold": 50},
        {"day": "Bloomday", "hour": 0, "visitors": 0, "checkouts": 1, "potions": 1, "gold": 50},
    ],
    Metric.PROFIT: [
        {"day": "Edgeday", "revenue": 150, "barrels": 100, "capacity": 0, "profit": 50},
        {"day": "Bloomday", "revenue": 50, "barrels": 0, "capacity": 1000, "profit": -950},
    ],
}

# The balances at the end of each tick (every other shop account is 0 throughout).
BALANCES = {
    ("Edgeday", 0): {"gold": 100, "potion:RED_POTION": 3, "potion_capacity": 1, "ml_capacity": 1},
    ("Edgeday", 2): {"gold": 150, "potion:RED_POTION": 2, "potion_capacity": 1, "ml_capacity": 1},
    ("Bloomday", 0): {"gold": 1200, "potion:RED_POTION": 1, "potion_capacity": 2, "ml_capacity": 1},
}


def balances_by_tick(rows: list[dict[str, object]]) -> dict[tuple[object, object], dict[object, object]]:
    """The balances' rows as {(day, hour): {commodity: balance}}, leaving out zeros."""
    found: dict[tuple[object, object], dict[object, object]] = {}
    for row in rows:
        point = found.setdefault((row["day"], row["hour"]), {})
        if row["balance"]:
            point[row["commodity"]] = row["balance"]
    return found
