"""The sales record and the order search, on fakes: what a checkout records, and paging through any search."""

import json
import random
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger
from domain.clock import GameTime
from domain.errors import InsufficientStock
from domain.sales import PAGE_SIZE, Cursor, Position, SaleLine, SearchQuery, SortColumn, SortOrder, fold
from service_layer import services, views
from service_layer.idempotency import RequestKey, Scope
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.helpers import ALICE
from tests.search import NEEDLES, QUERIES, T0, expected, made_up_lines, walk

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


def everything(uow: FakeUnitOfWork, query: SearchQuery | None = None) -> list:  # type: ignore[type-arg]
    return walk(query or SearchQuery(), lambda: uow)[0]


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


def test_the_newest_lines_come_first_five_to_a_page(uow):
    for _ in range(12):
        services.checkout(cart_with(uow, ("RED_POTION", 1)), "gold", uow)
    lines, pages = walk(SearchQuery(), lambda: uow)
    assert [len(p.results) for p in pages] == [5, 5, 2]
    assert [s.line.cart_id for s in lines] == sorted((s.line.cart_id for s in lines), reverse=True)
    assert pages[0].previous is None and pages[-1].next is None


def test_the_filters_are_case_insensitive_contains_and_take_wildcards_literally(uow):
    for name in ("Scaramouche", "scara_mouche", "100% Bob", "Bobby"):
        services.checkout(
            cart_with(uow, ("RED_POTION", 1), customer=ALICE.__class__("c", name, "Bard", "Elf", 3)), "gold", uow
        )
    services.checkout(cart_with(uow, ("BLUE_POTION", 1)), "gold", uow)

    def names(**filters: str) -> list[str]:
        return sorted(s.line.customer.customer_name for s in everything(uow, SearchQuery(**filters)))

    assert names(customer_name="SCARA") == ["Scaramouche", "scara_mouche"]
    assert names(customer_name="a_m") == ["scara_mouche"]
    assert names(customer_name="0%") == ["100% Bob"]
    assert names(customer_name="%") == ["100% Bob"]
    assert names(potion_sku="blue") == ["Alice"]
    assert names(customer_name="bob", potion_sku="RED_") == ["100% Bob", "Bobby"]
    assert names(customer_name="", potion_sku="") == ["100% Bob", "Alice", "Bobby", "Scaramouche", "scara_mouche"]


def test_only_ascii_letters_are_case_folded():
    assert fold("ÉMILE Zoë") == "Émile zoë"


def sold(uow: FakeUnitOfWork, line: SaleLine, at: datetime, txn_id: int) -> None:
    """Record `line` as sold at `at` by a made-up sale transaction `txn_id`, posted under the checkout's key."""
    key = RequestKey(Scope.CHECKOUT, str(line.cart_id))
    uow.work.transactions.append(ledger.PostedTransaction(txn_id, at, "sale", "", None, key.route, key.value, ()))
    uow.sales.add([line], key)


@pytest.mark.parametrize("query", QUERIES, ids=str)
def test_paging_visits_every_matching_line_once_in_order(query):
    store = FakeStore()
    uow = FakeUnitOfWork(store)
    for line, at in made_up_lines(random.Random(7), 53):
        sold(uow, line, at, line.cart_id)
    uow.commit()
    assert walk(query, lambda: uow)[0] == expected(store.sales, query)


def test_a_cursor_past_the_last_line_gives_an_empty_page(uow):
    services.checkout(cart_with(uow, ("RED_POTION", 1)), "gold", uow)
    page = views.search_orders(SearchQuery(), Cursor(Position(datetime(2000, 1, 1), 0)), uow)
    assert page.results == [] and page.previous is None and page.next is None


sale_sets = st.lists(st.integers(0, 10_000), max_size=3 * PAGE_SIZE + 2)  # each seed makes one line


@settings(max_examples=150, deadline=None)
@given(
    sales=sale_sets,
    name=st.sampled_from(NEEDLES),
    sku=st.sampled_from(NEEDLES),
    col=st.sampled_from(SortColumn),
    order=st.sampled_from(SortOrder),
)
def test_any_search_pages_through_any_sales_as_a_sorted_list_would(sales, name, sku, col, order):
    uow = FakeUnitOfWork()
    for seed in sales:
        ((line, at),) = made_up_lines(random.Random(seed), 1)
        sold(uow, line, at, seed)
    uow.commit()
    query = SearchQuery(name, sku, col, order)
    assert walk(query, lambda: uow)[0] == expected(uow.store.sales, query)


def test_made_up_lines_meet_ties_in_every_sort_column():
    lines = made_up_lines(random.Random(7), 53)
    assert len({at for _, at in lines}) < 20 and len({line.total for line, _ in lines}) < 20
    assert min(at for _, at in lines) >= T0
