"""The sales record and order search on SQLite and PostgreSQL, where the search is tested (the fakes search nothing):
the SQL search pages exactly as a sorted list does, newest first five to a page, its filters (name needles of every
length, each way the search may walk them), the backfill of migrations 0003 and 0018, and `ledger verify` on sale
lines."""

from __future__ import annotations

import json
import random
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Connection, event, select, text

from adapters import migrations, orm, repositories
from adapters.db import make_engine
from adapters.verification import verify
from domain.carts import Customer
from domain.sales import Cursor, Position, SearchQuery, SoldLine, SortColumn, SortOrder
from service_layer import services, views
from service_layer.idempotency import RequestKey, Scope
from tests.helpers import ALICE
from tests.search import MANY_NAMES, NAMES, NEEDLES, QUERIES, SHORT_NEEDLES, T0, expected, made_up_lines, walk


def _record(wiring, count: int, seed: int = 7, names: tuple[str, ...] = NAMES) -> list[SoldLine]:  # type: ignore[no-untyped-def]
    """`count` made-up sale lines written through the repository, each on a cart and a sale transaction of its own
    (raw rows: the search reads only sale_lines and the names they carry); return them as the database holds
    them."""
    made = made_up_lines(random.Random(seed), count, names)
    with wiring.engine.begin() as conn:
        for line, at in made:
            c = line.customer
            conn.execute(
                text(
                    "INSERT INTO carts (cart_id, customer_id, customer_name, character_class, "
                    "character_species, level, status, created_at) VALUES (:id, :cid, :name, :cls, :sp, "
                    ":lvl, 'checked_out', :at)"
                ),
                {
                    "id": line.cart_id,
                    "cid": c.customer_id,
                    "name": c.customer_name,
                    "cls": c.character_class,
                    "sp": c.character_species,
                    "lvl": c.level,
                    "at": at,
                },
            )
    for line, at in made:
        key = RequestKey(Scope.CHECKOUT, str(line.cart_id))
        with wiring.uow_factory() as uow:
            uow.connection.execute(
                text(
                    "INSERT INTO account_transactions (created_at, kind, description, request_route, request_key) "
                    "VALUES (:at, 'sale', 'made up', :route, :key)"
                ),
                {"at": at, "route": key.route, "key": key.value},
            )
            uow.sales.add([line], key)
            uow.commit()
    with wiring.uow_factory() as uow:
        recorded = uow.sales.search(
            SearchQuery(sort_order=SortOrder.ASC, sort_col=SortColumn.TIMESTAMP), None, 10 * count
        )
    assert sorted(((s.line, s.sold_at) for s in recorded), key=lambda m: m[0].cart_id) == made  # stored faithfully
    return recorded


@pytest.fixture
def recorded(wiring):  # type: ignore[no-untyped-def]
    return _record(wiring, 53)


def test_paging_visits_every_matching_line_once_in_order_for_every_search(wiring, recorded):
    for query in QUERIES:
        assert walk(query, wiring.uow_factory)[0] == expected(recorded, query), query


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    name=st.sampled_from(NEEDLES),
    sku=st.sampled_from(NEEDLES),
    col=st.sampled_from(SortColumn),
    order=st.sampled_from(SortOrder),
)
def test_any_search_pages_as_a_sorted_list_would(wiring, recorded, name, sku, col, order):
    query = SearchQuery(name, sku, col, order)
    assert walk(query, wiring.uow_factory)[0] == expected(recorded, query)


@pytest.fixture
def many_names(wiring):  # type: ignore[no-untyped-def]
    """Lines of 42 names, each in a line or two."""
    return _record(wiring, 75, seed=11, names=MANY_NAMES)


@pytest.mark.parametrize("names_walked", [repositories.NAMES_WALKED, 3, 0])
def test_short_needles_page_as_a_sorted_list_would_however_the_names_are_walked(
    wiring, many_names, monkeypatch, names_walked
):
    """Needles of one and two characters in many names, a few and none: each matching name's lines walked on their
    own (a needle in at most `NAMES_WALKED` names), or checked on the way through all the lines; with and without a
    potion filter."""
    monkeypatch.setattr(repositories, "NAMES_WALKED", names_walked)
    for name in SHORT_NEEDLES:
        for sku in ("", "ED"):
            for col in SortColumn:
                for order in SortOrder:
                    query = SearchQuery(name, sku, col, order)
                    assert walk(query, wiring.uow_factory)[0] == expected(many_names, query), query


def _statements(wiring, query: SearchQuery) -> list[str]:  # type: ignore[no-untyped-def]
    """The queries the search of `query`'s first page sends."""
    sent: list[str] = []

    def catch(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        if "SELECT" in statement:  # not SQLite's BEGIN
            sent.append(statement)

    event.listen(wiring.engine, "before_cursor_execute", catch)
    try:
        with wiring.uow_factory() as uow:
            uow.sales.search(query, None, 6)
    finally:
        event.remove(wiring.engine, "before_cursor_execute", catch)
    return sent


def test_a_name_filter_is_matched_against_the_names_sold_and_their_lines_walked_name_by_name(wiring, many_names):
    def reads(needle: str, sort_col: SortColumn = SortColumn.TIMESTAMP) -> list[str]:
        """What each statement reads: the names, each name's lines, or the lines filtered on the way."""
        per_name = "LATERAL" if wiring.engine.dialect.name == "postgresql" else "json_each"
        return [
            "names" if "FROM sale_customer_names" in s else "per name" if per_name in s else "lines"
            for s in _statements(wiring, SearchQuery(needle, sort_col=sort_col))
        ]

    assert reads("7") == ["names", "per name"]  # five names
    assert reads("7", SortColumn.CUSTOMER_NAME) == ["names", "per name"]
    assert reads("zz") == ["names"]  # no name holds it: no line is read
    assert reads("A") == ["names", "per name"]
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(repositories, "NAMES_WALKED", 3)
        assert reads("A") == ["names", "lines"]  # in more names than are walked one by one
        assert reads("A", SortColumn.CUSTOMER_NAME) == ["names", "per name"]  # by name: the next few names do


def test_the_names_searched_are_the_names_sold(wiring, many_names):
    with wiring.engine.connect() as conn:
        searched = conn.execute(select(orm.sale_customer_names.c.customer_name)).scalars().all()
        sold = conn.execute(select(orm.sale_lines.c.customer_name).distinct()).scalars().all()
    assert sorted(searched) == sorted(sold) == sorted({s.line.customer.customer_name for s in many_names})


@pytest.fixture
def stocked(wiring):  # type: ignore[no-untyped-def]
    """A new shop with 20 red and 20 blue potions on hand; its unit-of-work factory."""
    for sku in ("RED_POTION", "BLUE_POTION"):
        services.correct(f"shop/potion:{sku}", 20, "stock", sku, wiring.uow_factory())
    return wiring.uow_factory


def cart_with(uow, *lines: tuple[str, int], customer: Customer = ALICE) -> int:  # type: ignore[no-untyped-def]
    cart_id = json.loads(services.create_cart(customer, None, uow()).body)["cart_id"]
    for sku, quantity in lines:
        services.set_item_quantity(cart_id, sku, quantity, None, uow())
    return cart_id


def test_the_newest_lines_come_first_five_to_a_page(stocked):
    for _ in range(12):
        services.checkout(cart_with(stocked, ("RED_POTION", 1)), "gold", stocked())
    lines, pages = walk(SearchQuery(), stocked)
    assert [len(p.results) for p in pages] == [5, 5, 2]
    assert [s.line.cart_id for s in lines] == sorted((s.line.cart_id for s in lines), reverse=True)
    assert pages[0].previous is None and pages[-1].next is None


def test_the_filters_are_case_insensitive_contains_and_take_wildcards_literally(stocked):
    for name in ("Scaramouche", "scara_mouche", "100% Bob", "Bobby"):
        customer = Customer("c", name, "Bard", "Elf", 3)
        services.checkout(cart_with(stocked, ("RED_POTION", 1), customer=customer), "gold", stocked())
    services.checkout(cart_with(stocked, ("BLUE_POTION", 1)), "gold", stocked())

    def names(**filters: str) -> list[str]:
        return sorted(s.line.customer.customer_name for s in walk(SearchQuery(**filters), stocked)[0])

    assert names(customer_name="SCARA") == ["Scaramouche", "scara_mouche"]
    assert names(customer_name="a_m") == ["scara_mouche"]
    assert names(customer_name="0%") == ["100% Bob"]
    assert names(customer_name="%") == ["100% Bob"]
    assert names(potion_sku="blue") == ["Alice"]
    assert names(customer_name="bob", potion_sku="RED_") == ["100% Bob", "Bobby"]
    assert names(customer_name="", potion_sku="") == ["100% Bob", "Alice", "Bobby", "Scaramouche", "scara_mouche"]


def test_a_cursor_past_the_last_line_gives_an_empty_page(stocked):
    services.checkout(cart_with(stocked, ("RED_POTION", 1)), "gold", stocked())
    page = views.search_orders(SearchQuery(), Cursor(Position(datetime(2000, 1, 1), 0)), stocked())
    assert page.results == [] and page.previous is None and page.next is None


def test_a_checkout_writes_its_lines_with_its_sale_and_verify_agrees(wiring):
    uow = wiring.uow_factory
    services.set_time("Crownday", 8, None, uow())
    for sku in ("RED_POTION", "BLUE_POTION"):
        services.correct(f"shop/potion:{sku}", 5, "stock", sku, uow())
    cart_id = json.loads(services.create_cart(ALICE, None, uow()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow())
    services.set_item_quantity(cart_id, "BLUE_POTION", 1, None, uow())
    price = {item["sku"]: item["price"] for item in views.catalog(uow())}  # the shelf's, this tick
    services.checkout(cart_id, "gold", uow())
    lines = walk(SearchQuery(sort_col=SortColumn.ITEM_SKU, sort_order=SortOrder.ASC), uow)[0]
    with uow() as u:
        (sale,) = [t for t in u.ledger.history(limit=10) if t.kind == "sale"]
    assert [
        (s.line.item_sku, s.line.total, s.line.customer, s.sold_at, s.game_time, s.transaction_id) for s in lines
    ] == [
        ("1 blue potion", price["BLUE_POTION"], ALICE, sale.created_at, sale.game_time, sale.id),
        ("2 red potion", 2 * price["RED_POTION"], ALICE, sale.created_at, sale.game_time, sale.id),
    ]
    with wiring.engine.connect() as conn:
        assert verify(conn).ok, verify(conn).lines()


def _without_guards(conn: Connection) -> None:
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET session_replication_role = replica"))
    else:
        conn.execute(text("DROP TRIGGER sale_lines_no_update"))


def test_verify_finds_sale_lines_that_disagree_with_their_sale(wiring):
    uow = wiring.uow_factory
    services.correct("shop/potion:RED_POTION", 5, "stock", "r", uow())
    cart_id = json.loads(services.create_cart(ALICE, None, uow()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow())
    services.checkout(cart_id, "gold", uow())
    with wiring.engine.connect() as conn:
        _without_guards(conn)
        conn.execute(text("UPDATE sale_lines SET quantity = 3, total = 150"))
        drifted = {f.check.name for f in verify(conn).findings if not f.ok}
        assert drifted == {"sales_recorded", "buyers_daily"}  # the lines no longer match their sale, nor the rollup
        conn.execute(text("UPDATE sale_lines SET quantity = 2, total = 100, game_hour = 5"))
        (finding,) = [f for f in verify(conn).findings if not f.ok]
        assert finding.check.name == "sales_recorded" and "time of sale line" in finding.examples[0][1]


def test_an_old_database_gets_its_checkouts_backfilled_as_sale_lines(empty_database_url):
    engine = make_engine(empty_database_url)
    migrations.upgrade(engine, "0002")
    at = T0
    with engine.begin() as conn:  # the books of revision 0002: stock, a sale, an open cart and a reset-closed cart
        ids = {}
        for owner, commodity in (
            ("world", "potion:RED_POTION"),
            ("shop", "potion:RED_POTION"),
            ("customers", "potion:RED_POTION"),
            ("shop", "gold"),
            ("customers", "gold"),
        ):
            ids[owner, commodity] = conn.execute(
                text("INSERT INTO accounts (owner, commodity) VALUES (:o, :c) RETURNING id"),
                {"o": owner, "c": commodity},
            ).scalar_one()

        def post(kind: str, key: str | None, *moves: tuple[str, str, int, int]) -> None:
            nonlocal at
            at += timedelta(minutes=1)
            txn = conn.execute(
                text(
                    "INSERT INTO account_transactions (created_at, kind, description, game_day, "
                    "game_hour, request_route, request_key) VALUES (:at, :kind, 'old', 'Soulday', "
                    "6, :route, :key) RETURNING id"
                ),
                {"at": at, "kind": kind, "route": key and "carts/checkout", "key": key},
            ).scalar_one()
            for owner, commodity, change, after in moves:
                conn.execute(
                    text(
                        "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, "
                        "balance_after, created_at, non_negative) VALUES (:a, :t, :c, :b, :at, :n)"
                    ),
                    {"a": ids[owner, commodity], "t": txn, "c": change, "b": after, "at": at, "n": owner == "shop"},
                )
            if key:
                conn.execute(
                    text(
                        "INSERT INTO processed_requests (route, key, fingerprint, status, body, created_at) "
                        "VALUES ('carts/checkout', :key, 'fp', 200, :body, :at)"
                    ),
                    {"key": key, "body": b"{}", "at": at},
                )

        post("opening", None, ("world", "potion:RED_POTION", -5, -5), ("shop", "potion:RED_POTION", 5, 5))
        for cart_id, status in ((1, "checked_out"), (2, "open"), (3, "closed")):
            conn.execute(
                text(
                    "INSERT INTO carts (cart_id, customer_id, customer_name, character_class, "
                    "character_species, level, status, created_at) VALUES (:id, 'c-1', 'Scaramouche', "
                    "'Bard', 'Elf', 9, :status, :at)"
                ),
                {"id": cart_id, "status": status, "at": at},
            )
            conn.execute(
                text("INSERT INTO cart_items (cart_id, sku, quantity) VALUES (:id, 'RED_POTION', 2)"), {"id": cart_id}
            )
        post(
            "sale",
            "1",
            ("customers", "gold", -100, -100),
            ("shop", "gold", 100, 100),
            ("shop", "potion:RED_POTION", -2, 3),
            ("customers", "potion:RED_POTION", 2, 2),
        )
    migrations.upgrade(engine)
    with engine.connect() as conn:
        s = orm.sale_lines
        rows = conn.execute(
            select(
                s.c.cart_id,
                s.c.sku,
                s.c.potion_name,
                s.c.item_sku,
                s.c.quantity,
                s.c.unit_price,
                s.c.total,
                s.c.customer_name,
                s.c.character_class,
                s.c.character_species,
                s.c.level,
                s.c.created_at,
                s.c.game_day,
                s.c.game_hour,
            )
        ).all()
        report = verify(conn)
        names = conn.execute(select(orm.sale_customer_names.c.customer_name)).scalars().all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [
        (1, "RED_POTION", "Red Potion", "2 red potion", 2, 50, 100, "Scaramouche", "Bard", "Elf", 9, at, "Soulday", 6)
    ]
    assert names == ["Scaramouche"]  # the names the order search matches a name filter against (0018)
    assert report.ok, report.lines()


def test_what_a_customer_sends_is_written_as_sent_with_the_commit(wiring):
    """On PostgreSQL the sale lines and the cart go with the COMMIT as rendered SQL: quotes, percent signs,
    semicolons, backslashes and non-ASCII text in them stay data."""
    uow = wiring.uow_factory
    nasty = Customer("c-%s'; --", "O'Brien 100%; DROP TABLE carts; %(x)s \\ é", "Rogue\\", "Gnome;", 3)
    services.correct("shop/potion:RED_POTION", 1, "stock", "stock", uow())
    cart_id = json.loads(services.create_cart(nasty, None, uow()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow())
    first = services.checkout(cart_id, "gold", uow())
    assert services.checkout(cart_id, "gold", uow()) == replace(first, replayed=True)
    (line,) = walk(SearchQuery(sort_col=SortColumn.ITEM_SKU, sort_order=SortOrder.ASC), uow)[0]
    assert line.line.customer == nasty
    with uow() as u:
        assert u.carts.get(cart_id).status == "checked_out"
