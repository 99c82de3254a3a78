"""What the planner reads and writes, on each real database: the shelf of each tick, and the game's records as a
history, the same as the fakes give for the same play (the unit layer's planner tests run on those)."""

from __future__ import annotations

import json
from collections.abc import Callable

from domain.carts import Customer
from domain.clock import GameTime
from domain.market import History
from domain.planners import Shelf
from domain.potions import PotionType
from service_layer import services
from service_layer.unit_of_work import AbstractUnitOfWork
from tests.fakes import FakeUnitOfWork
from tests.helpers import ALICE, barrel

BOB = Customer("c-2", "Bob", "Bard", "Human", 3)
MEDIUM_RED = barrel("MEDIUM_RED_BARREL", 2500, price=250, quantity=5)


def play(new_uow: Callable[[], AbstractUnitOfWork]) -> None:
    """Two ticks of a game after a reset: offers, a delivery, bottling, visits, a sale; a time told twice."""
    services.set_time("Soulday", 22, None, new_uow())  # before the reset: not this game's
    services.correct("shop/gold", 5, "found", "found", new_uow())
    services.reset("r", new_uow())
    services.correct("shop/gold", 1000, "a loan", "loan", new_uow())
    services.set_time("Edgeday", 0, None, new_uow())
    services.plan_barrels([MEDIUM_RED], new_uow())
    services.deliver_barrels("b1", [barrel("MEDIUM_RED_BARREL", 2500, price=250, quantity=1)], new_uow())
    services.deliver_bottles("p1", [(PotionType(100, 0, 0, 0), 10)], new_uow())
    services.record_visit("v1", [ALICE, BOB], new_uow())
    cart_id = json.loads(services.create_cart(ALICE, None, new_uow()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, new_uow())
    services.checkout(cart_id, "gold", new_uow())
    services.set_time("Edgeday", 2, None, new_uow())
    services.set_time("Edgeday", 2, None, new_uow())  # told again (no key): the same tick
    services.record_visit("v2", [BOB], new_uow())


def history(new_uow: Callable[[], AbstractUnitOfWork]) -> History:
    with new_uow() as uow:
        return uow.market.records().history()


def test_the_records_read_back_as_the_fakes_history(wiring):
    play(wiring.uow_factory)
    fake = FakeUnitOfWork()
    services.open_shop(fake)
    play(lambda: fake)
    real, expected = history(wiring.uow_factory), history(lambda: fake)
    assert real == expected
    first, second = real.ticks
    assert (first.day, first.hour, second.hour) == ("Edgeday", 0, 2)
    assert first.visitors == {"Wizard": 1, "Bard": 1} and second.visitors == {"Bard": 1}
    assert first.shown["RED_POTION"][1] == 10 and second.shown["RED_POTION"][1] == 8
    assert {(kind, sku): s.units for (kind, sku), s in first.sold.items()} == {("Wizard", "RED_POTION"): 2}
    assert [b.sku for b in first.offers] == ["MEDIUM_RED_BARREL"] and second.offers == ()


def test_the_shelf_of_the_latest_tick_is_the_current_one(wiring):
    new_uow = wiring.uow_factory
    with new_uow() as uow:
        assert uow.shelf.current() is None
        uow.shelf.record(Shelf(("RED_POTION",), {"RED_POTION": 7}))  # before any tick: nothing to record it at
        uow.commit()
    with new_uow() as uow:
        assert uow.shelf.current() is None
    services.set_time("Edgeday", 0, None, new_uow())
    with new_uow() as uow:
        planned = uow.shelf.current()
        assert planned is not None and len(planned.prices) == len(uow.potions.list())
    with new_uow() as uow:
        uow.clock.set(GameTime("Edgeday", 2))
        uow.shelf.record(Shelf(("GREEN_POTION", "RED_POTION"), {p.sku: 9 for p in uow.potions.list()}))
        uow.commit()
    with new_uow() as uow:
        assert uow.shelf.current() == Shelf(("GREEN_POTION", "RED_POTION"), {p.sku: 9 for p in uow.potions.list()})
