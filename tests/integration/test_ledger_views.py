"""The ledger's views on SQLite and PostgreSQL, in the services' own terms: the history (filters, moments, paging),
the accounts and the audit at a past moment. These are the database's reads (the fakes keep only the balances now);
over HTTP they are tests/integration/test_read_routes.py's. Past moments are read off the books with plain SQL, so
no test sleeps or sets a clock, and no read under test tells another when to look."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import select

from adapters import orm
from cauldrons.bootstrap import UowFactory, Wiring
from domain.potions import PotionType
from service_layer import services, views
from service_layer.idempotency import Reply
from service_layer.views import HistoryQuery
from tests.helpers import NEW_SHOP, OPENED, SMALL_RED

RED_POTION = PotionType(100, 0, 0, 0)


@pytest.fixture
def uow(wiring: Wiring) -> UowFactory:
    """A new unit of work of the shop just opened (transaction 1), each call."""
    return wiring.uow_factory


@pytest.fixture
def made_at(wiring: Wiring) -> Any:
    """When the books say transaction `txn_id` was made."""

    def when(txn_id: int) -> datetime:
        t = orm.account_transactions
        with wiring.engine.connect() as conn:
            at: datetime = conn.execute(select(t.c.created_at).where(t.c.id == txn_id)).scalar_one()
        return at

    return when


def correct(uow: UowFactory, account: str, change: int, reason: str = "stock take", key: str = "k1") -> Reply:
    """A correction as the route sends it, keyed on ledger/corrections."""
    return services.correct(account, change, reason, key, uow())


def balances(uow: UowFactory, at: datetime | None = None) -> dict[str, int]:
    return {row["account"]: row["balance"] for row in views.accounts(at, uow())["accounts"]}


def ids(page: dict[str, Any]) -> list[int]:
    return [txn["id"] for txn in page["transactions"]]


def corrections(uow: UowFactory, n: int) -> None:
    """`n` one-gold corrections (transactions 2 .. n+1), each with its own key."""
    for i in range(n):
        correct(uow, "shop/gold", 1, key=f"gift-{i}")


def test_each_correction_is_a_transaction_that_nets_to_zero_against_adjustments(uow, made_at):
    correct(uow, "shop/gold", 50, "found coins", key="k1")
    correct(uow, "shop/gold", -30, "counted twice", key="k2")
    newest, older = views.transactions(HistoryQuery(limit=2), uow())["transactions"]
    assert older["entries"] == [
        {"account": "adjustments/gold", "change": -50, "balance_after": -50},
        {"account": "shop/gold", "change": 50, "balance_after": 150},
    ]
    assert newest == {
        "id": 3,
        "created_at": views.moment(made_at(3)),
        "kind": "correction",
        "description": "correction of shop/gold by -30: counted twice",
        "game_time": None,
        "request": {"route": "ledger/corrections", "key": "k2"},
        "entries": [
            {"account": "adjustments/gold", "change": 30, "balance_after": -20},
            {"account": "shop/gold", "change": -30, "balance_after": 120},
        ],
    }
    assert balances(uow)["adjustments/gold"] == -20


# --- accounts at a moment ------------------------------------------------------------------------------------------


def test_accounts_at_a_past_moment_shows_the_balances_of_then(uow, made_at):
    services.deliver_barrels("1", [SMALL_RED], uow())
    correct(uow, "shop/ml:red", -100)
    opened, bought = made_at(1), made_at(2)
    before = views.accounts(opened, uow())
    assert before["as_of"] == views.moment(opened)
    later = {"adjustments/ml:red": 0, "shop/ml:red": 0, "suppliers/gold": 0, "suppliers/ml:red": 0}
    assert balances(uow, opened) == {**OPENED, **later}  # accounts opened later are listed, at 0
    assert balances(uow, bought) == {
        **OPENED,
        **later,
        "shop/gold": 0,
        "suppliers/gold": 100,
        "shop/ml:red": 500,
        "suppliers/ml:red": -500,
    }
    assert balances(uow) == {
        **OPENED,
        "shop/gold": 0,
        "suppliers/gold": 100,
        "shop/ml:red": 400,
        "suppliers/ml:red": -500,
        "adjustments/ml:red": 100,
    }


def test_accounts_before_the_shop_opened_are_all_zero(uow):
    assert set(balances(uow, datetime(2000, 1, 1)).values()) == {0}


# --- transactions --------------------------------------------------------------------------------------------------


def test_history_lists_transactions_newest_first_with_their_entries_and_request(uow, made_at):
    services.set_time("Bloomday", 14, None, uow())
    services.deliver_barrels("order-7", [SMALL_RED], uow())
    services.deliver_bottles("order-8", [(PotionType(100, 0, 0, 0), 2)], uow())
    page = views.transactions(HistoryQuery(), uow())
    assert [t["kind"] for t in page["transactions"]] == ["bottling", "barrel_purchase", "opening"]
    assert ids(page) == [3, 2, 1] and page["next_cursor"] is None
    assert page["transactions"][1] == {
        "id": 2,
        "created_at": views.moment(made_at(2)),
        "kind": "barrel_purchase",
        "description": "bought 1 × SMALL_RED_BARREL for 100 gold",
        "game_time": {"day": "Bloomday", "hour": 14},
        "request": {"route": "barrels/deliver", "key": "order-7"},
        "entries": [
            {"account": "shop/gold", "change": -100, "balance_after": 0},
            {"account": "suppliers/gold", "change": 100, "balance_after": 100},
            {"account": "suppliers/ml:red", "change": -500, "balance_after": -500},
            {"account": "shop/ml:red", "change": 500, "balance_after": 500},
        ],
    }


def test_history_filters_by_account(uow):
    services.deliver_barrels("1", [SMALL_RED], uow())
    services.deliver_bottles("1", [(PotionType(100, 0, 0, 0), 2)], uow())
    correct(uow, "shop/potion:RED_POTION", 1)
    assert ids(views.transactions(HistoryQuery(account="shop/gold"), uow())) == [2, 1]
    assert ids(views.transactions(HistoryQuery(account="shop/ml:red"), uow())) == [3, 2]
    assert ids(views.transactions(HistoryQuery(account="shop/potion:RED_POTION"), uow())) == [4, 3]
    assert ids(views.transactions(HistoryQuery(account="adjustments/potion:RED_POTION"), uow())) == [4]
    assert views.transactions(HistoryQuery(account="shop/ml:blue"), uow()) == {"transactions": [], "next_cursor": None}


def test_history_between_two_moments_includes_both_ends(uow, made_at):
    corrections(uow, 3)
    assert ids(views.transactions(HistoryQuery(since=made_at(2), until=made_at(3)), uow())) == [3, 2]
    assert ids(views.transactions(HistoryQuery(since=made_at(3)), uow())) == [4, 3]
    assert ids(views.transactions(HistoryQuery(until=made_at(1)), uow())) == [1]


def walk(uow: UowFactory, limit: int, **filters: Any) -> list[list[int]]:
    """Every page of the history, following next_cursor until it is None."""
    pages, cursor = [], None
    while True:
        page = views.transactions(HistoryQuery(cursor=cursor, limit=limit, **filters), uow())
        pages.append(ids(page))
        if (cursor := page["next_cursor"]) is None:
            return pages


def test_history_pages_follow_the_cursor_with_no_duplicates_and_no_gaps(uow):
    corrections(uow, 6)
    assert walk(uow, 3) == [[7, 6, 5], [4, 3, 2], [1]]
    assert views.transactions(HistoryQuery(limit=3), uow())["next_cursor"] == "5"


def test_the_last_page_has_no_cursor_even_when_it_is_full(uow):
    corrections(uow, 5)
    assert walk(uow, 3) == [[6, 5, 4], [3, 2, 1]]
    assert walk(uow, 6) == [[6, 5, 4, 3, 2, 1]]
    assert walk(uow, 1) == [[6], [5], [4], [3], [2], [1]]


def test_paging_keeps_the_filters(uow, made_at):
    services.deliver_barrels("1", [SMALL_RED], uow())  # 2
    corrections(uow, 2)  # 3, 4
    correct(uow, "shop/ml:red", -1, key="ml")  # 5
    correct(uow, "shop/gold", 1, key="gold")  # 6
    assert walk(uow, 2, account="shop/gold") == [[6, 4], [3, 2], [1]]
    assert walk(uow, 2, account="shop/gold", since=made_at(2), until=made_at(5)) == [[4, 3], [2]]


# --- audit at a moment ---------------------------------------------------------------------------------------------


def test_the_audit_at_a_past_moment_shows_the_totals_of_then(uow, made_at):
    services.deliver_barrels("1", [SMALL_RED], uow())
    services.deliver_bottles("1", [(PotionType(100, 0, 0, 0), 2)], uow())
    assert views.audit(made_at(1), uow()) == NEW_SHOP
    assert views.audit(made_at(2), uow()) == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}
    assert views.audit(made_at(3), uow()) == {"number_of_potions": 2, "ml_in_barrels": 300, "gold": 0}
    assert views.audit(None, uow()) == views.audit(made_at(3), uow())
    assert views.audit(datetime(2000, 1, 1), uow()) == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 0}


def test_balances_now_and_at_a_moment_count_every_entry_of_an_account_in_one_transaction(uow, made_at):
    """Two mixes of one potion are two entries on one account in one transaction: both count."""
    services.deliver_barrels("1", [SMALL_RED], uow())
    services.deliver_bottles("1", [(RED_POTION, 1), (RED_POTION, 2)], uow())
    bottled = made_at(3)
    assert views.audit(None, uow())["number_of_potions"] == 3
    assert views.audit(bottled, uow())["number_of_potions"] == 3
