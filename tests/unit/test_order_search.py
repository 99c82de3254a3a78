"""The sales record on fakes: what a checkout records. The order search is the database's: its filters and paging
are tested on SQLite and PostgreSQL (tests/integration/test_sales.py); its made-up lines and case folding here."""

import json
import random

import pytest

from domain.clock import GameTime
from domain.errors import InsufficientStock
from domain.sales import SoldLine, fold
from service_layer import services, views
from tests.fakes import FakeUnitOfWork
from tests.helpers import ALICE
from tests.search import T0, made_up_lines

RED_RECIPE = (100, 0, 0, 0)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    services.open_shop(uow)
    services.correct("shop/potion:RED_POTION", 20, "stock", "r", uow)
    services.correct("shop/potion:BLUE_POTION", 20, "stock", "b", uow)
    return uow


def cart_with(uow: FakeUnitOfWork, *lines: tuple[str, int], customer=ALICE) -> int:  # type: ignore[no-untyped-def]
    cart_id = json.loads(services.create_cart(customer, None, uow).body)["cart_id"]
    for sku, quantity in lines:
        services.set_item_quantity(cart_id, sku, quantity, None, uow)
    return cart_id


def everything(uow: FakeUnitOfWork) -> list[SoldLine]:
    """Every line the checkouts recorded (what a search finds is the database's: tests/integration/test_sales.py)."""
    return list(uow.store.sales)


def test_a_checkout_records_each_line_sold_with_its_price_customer_and_sale(uow):
    services.set_time("Bloomday", 14, None, uow)
    price = {item["sku"]: item["price"] for item in views.catalog(uow)}  # the shelf's, this tick
    cart_id = cart_with(uow, ("RED_POTION", 2), ("BLUE_POTION", 1))
    services.checkout(cart_id, "gold", uow)
    (sale,) = uow.transactions("sale")
    found = sorted(everything(uow), key=lambda s: s.line.sku)
    red, blue = price["RED_POTION"], price["BLUE_POTION"]
    assert [(s.line.sku, s.line.quantity, s.line.unit_price, s.line.total, s.line.item_sku) for s in found] == [
        ("BLUE_POTION", 1, blue, blue, "1 blue potion"),
        ("RED_POTION", 2, red, 2 * red, "2 red potion"),
    ]
    assert {(s.line.cart_id, s.line.customer, s.sold_at, s.game_time, s.transaction_id) for s in found} == {
        (cart_id, ALICE, sale.created_at, GameTime("Bloomday", 14), sale.id)
    }
    assert len({s.line_item_id for s in found}) == 2


def test_a_retried_checkout_records_its_lines_once(uow):
    cart_id = cart_with(uow, ("RED_POTION", 2))
    first = services.checkout(cart_id, "gold", uow)
    again = services.checkout(cart_id, "gold", uow)
    assert again.replayed and again.body == first.body
    assert len(everything(uow)) == 1


def test_a_refused_checkout_records_nothing(uow):
    cart_id = cart_with(uow, ("RED_POTION", 2), ("GREEN_POTION", 1))
    with pytest.raises(InsufficientStock):
        services.checkout(cart_id, "gold", uow)
    assert everything(uow) == []


def test_open_carts_and_empty_checkouts_are_not_orders(uow):
    cart_with(uow, ("RED_POTION", 2))
    services.checkout(cart_with(uow), "gold", uow)
    assert everything(uow) == []


def test_the_price_paid_stays_what_it_was_when_prices_change(uow):
    services.checkout(cart_with(uow, ("RED_POTION", 3)), "gold", uow)
    uow.store.potions = [
        p if p.sku != "RED_POTION" else type(p)(p.sku, p.name, p.potion_type, 99) for p in uow.store.potions
    ]
    services.checkout(cart_with(uow, ("RED_POTION", 1)), "gold", uow)
    assert sorted(s.line.total for s in everything(uow)) == [99, 150]


def test_only_ascii_letters_are_case_folded():
    assert fold("ÉMILE Zoë") == "Émile zoë"


def test_made_up_lines_meet_ties_in_every_sort_column():
    lines = made_up_lines(random.Random(7), 53)
    assert len({at for _, at in lines}) < 20 and len({line.total for line, _ in lines}) < 20
    assert min(at for _, at in lines) >= T0
