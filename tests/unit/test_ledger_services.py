"""Corrections and the ledger's views (accounts, history, the audit at a moment) on fakes, in the services' own
terms. Past moments are read off the books (`uow.transactions()`), so no test sleeps or sets a clock."""

import json
import re
from datetime import datetime

import pytest

from domain import ledger
from domain.errors import (
    IdempotencyKeyReused,
    InsufficientCapacity,
    InsufficientGold,
    InsufficientMl,
    InsufficientStock,
    UnknownAccount,
)
from domain.potions import PotionType
from service_layer import services, views
from service_layer.idempotency import Reply, RequestKey
from service_layer.views import HistoryQuery
from tests.fakes import FakeUnitOfWork
from tests.helpers import NEW_SHOP, OPENED, SMALL_RED


@pytest.fixture
def uow(uow: FakeUnitOfWork) -> FakeUnitOfWork:
    """The shared fake unit of work, with the shop opened (transaction 1)."""
    services.open_shop(uow)
    return uow


def correct(uow: FakeUnitOfWork, account: str, change: int, reason: str = "stock take", key: str = "k1") -> Reply:
    """A correction as the route sends it, keyed on ledger/corrections."""
    return services.correct(account, change, reason, key, uow)


def made_at(uow: FakeUnitOfWork, txn_id: int) -> datetime:
    """When the books say transaction `txn_id` was made."""
    return uow.transactions()[txn_id - 1].created_at


def balances(uow: FakeUnitOfWork, at: datetime | None = None) -> dict[str, int]:
    return {row["account"]: row["balance"] for row in views.accounts(at, uow)["accounts"]}


def ids(page: dict) -> list[int]:
    return [txn["id"] for txn in page["transactions"]]


def corrections(uow: FakeUnitOfWork, n: int) -> None:
    """`n` one-gold corrections (transactions 2 .. n+1), each with its own key."""
    for i in range(n):
        correct(uow, "shop/gold", 1, key=f"gift-{i}")


# --- corrections ---------------------------------------------------------------------------------------------------


def test_a_positive_correction_adds_to_the_account_and_answers_its_new_balance(uow):
    reply = correct(uow, "shop/gold", 50)
    assert (reply.status, reply.content_type, reply.replayed) == (200, "application/json", False)
    assert reply.body == b'{"transaction_id":2,"account":"shop/gold","change":50,"balance":150}'
    assert views.audit(None, uow) == {**NEW_SHOP, "gold": 150}
    assert uow.committed


def test_a_negative_correction_takes_from_the_account(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    reply = correct(uow, "shop/ml:red", -120, "spilled")
    assert json.loads(reply.body) == {"transaction_id": 3, "account": "shop/ml:red", "change": -120, "balance": 380}
    assert views.audit(None, uow) == {"number_of_potions": 0, "ml_in_barrels": 380, "gold": 0}


def test_a_correction_may_bring_a_shop_account_down_to_exactly_zero(uow):
    assert json.loads(correct(uow, "shop/gold", -100).body)["balance"] == 0
    assert views.audit(None, uow)["gold"] == 0


def test_potions_can_be_corrected_into_existence_without_bottling(uow):
    reply = correct(uow, "shop/potion:BLUE_POTION", 3, "found behind the counter")
    assert json.loads(reply.body)["balance"] == 3
    assert views.audit(None, uow) == {**NEW_SHOP, "number_of_potions": 3}
    assert [(item["sku"], item["quantity"]) for item in views.catalog(uow)] == [("BLUE_POTION", 3)]


def test_counter_accounts_may_be_corrected_and_are_not_held_to_zero(uow):
    reply = correct(uow, "world/gold", -500)
    assert json.loads(reply.body) == {"transaction_id": 2, "account": "world/gold", "change": -500, "balance": -600}
    assert views.audit(None, uow) == NEW_SHOP


@pytest.mark.parametrize(
    ("account", "change", "error", "message"),
    [
        ("shop/gold", -101, InsufficientGold, "this needs 101 gold but the shop has 100"),
        ("shop/potion:RED_POTION", -1, InsufficientStock, "this needs 1 of RED_POTION but the shop has 0"),
        ("shop/ml:green", -5, InsufficientMl, "this needs 5 ml of green but the shop has 0"),
    ],
)
def test_a_correction_below_zero_is_refused_and_stores_nothing(uow, account, change, error, message):
    with pytest.raises(error, match=f"^{re.escape(message)}$"):
        correct(uow, account, change)
    assert views.audit(None, uow) == NEW_SHOP
    assert balances(uow) == OPENED  # not even an empty account was opened
    assert uow.transactions("correction") == []
    assert RequestKey("ledger/corrections", "k1") not in uow.requests()
    assert not correct(uow, account, 1).replayed  # the refusal kept no key: a corrected retry goes through


def test_a_correction_below_zero_capacity_units_is_refused(uow):
    with pytest.raises(InsufficientCapacity, match="needs 2 potion_capacity units but the shop has 1"):
        correct(uow, "shop/potion_capacity", -2)
    assert balances(uow) == OPENED
    assert json.loads(correct(uow, "shop/potion_capacity", -1).body)["balance"] == 0


def test_a_correction_may_exceed_capacity_since_it_records_what_is_there(uow):
    correct(uow, "shop/potion:RED_POTION", 51, key="potions")  # capacity: 50 potions
    correct(uow, "shop/ml:dark", 10_001, key="ml")  # capacity: 10,000 ml
    assert views.audit(None, uow) == {"number_of_potions": 51, "ml_in_barrels": 10_001, "gold": 100}


@pytest.mark.parametrize(
    "account",
    [
        "nobody/gold",  # no such owner
        "shop/silver",  # no such commodity
        "shop/potion:NO_SUCH_POTION",  # a potion the shop does not sell
        "shop/ml:purple",  # no such colour
        "adjustments/gold",  # the other side of every correction cannot itself be corrected
        "shop",  # not owner/commodity
        "shop/gold/extra",
    ],
)
def test_an_account_that_cannot_be_corrected_is_unknown_and_changes_nothing(uow, account):
    with pytest.raises(UnknownAccount, match=f"^there is no account {re.escape(account)} that can be corrected$"):
        correct(uow, account, 5)
    assert balances(uow) == OPENED
    assert RequestKey("ledger/corrections", "k1") not in uow.requests()


def test_a_retried_correction_is_applied_once_and_replays_the_same_bytes(uow):
    first = correct(uow, "shop/gold", 50, key="k1")
    correct(uow, "shop/gold", 7, key="k2")
    again = correct(uow, "shop/gold", 50, key="k1")
    assert again.replayed and not first.replayed
    assert (again.status, again.body, again.content_type) == (first.status, first.body, first.content_type)
    assert again.body == b'{"transaction_id":2,"account":"shop/gold","change":50,"balance":150}'  # then, not now
    assert views.audit(None, uow)["gold"] == 157
    assert len(uow.transactions("correction")) == 2


@pytest.mark.parametrize(
    ("account", "change", "reason"),
    [
        ("shop/gold", 51, "stock take"),
        ("shop/gold", 50, "another reason"),
        ("world/gold", 50, "stock take"),
    ],
)
def test_the_same_key_with_another_correction_is_refused_and_changes_nothing(uow, account, change, reason):
    correct(uow, "shop/gold", 50, "stock take", key="k1")
    with pytest.raises(IdempotencyKeyReused, match="^key 'k1' was already used on ledger/corrections with a"):
        correct(uow, account, change, reason, key="k1")
    assert views.audit(None, uow)["gold"] == 150
    assert len(uow.transactions("correction")) == 1


def test_each_correction_is_a_transaction_that_nets_to_zero_against_adjustments(uow):
    correct(uow, "shop/gold", 50, "found coins", key="k1")
    correct(uow, "shop/gold", -30, "counted twice", key="k2")
    newest, older = views.transactions(HistoryQuery(limit=2), uow)["transactions"]
    assert older["entries"] == [
        {"account": "adjustments/gold", "change": -50, "balance_after": -50},
        {"account": "shop/gold", "change": 50, "balance_after": 150},
    ]
    assert newest == {
        "id": 3,
        "created_at": views.moment(made_at(uow, 3)),
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


# --- accounts ------------------------------------------------------------------------------------------------------


def test_accounts_lists_every_account_with_its_counter_accounts_sorted(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    correct(uow, "shop/gold", 5)
    listed = [a for a in views.accounts(None, uow)["accounts"] if a["balance"] or a["owner"] != ledger.WORLD]
    assert listed == [
        {"account": f"{owner}/{commodity}", "owner": owner, "commodity": commodity, "balance": balance}
        for owner, commodity, balance in [
            ("adjustments", "gold", -5),
            ("shop", "gold", 5),
            ("shop", "ml:red", 500),
            ("shop", "ml_capacity", 1),
            ("shop", "potion_capacity", 1),
            ("suppliers", "gold", 100),
            ("suppliers", "ml:red", -500),
            ("world", "gold", -100),
            ("world", "ml_capacity", -1),
            ("world", "potion_capacity", -1),
        ]
    ]


def test_accounts_at_a_past_moment_shows_the_balances_of_then(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    correct(uow, "shop/ml:red", -100)
    opened, bought = made_at(uow, 1), made_at(uow, 2)
    before = views.accounts(opened, uow)
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


def test_accounts_now_is_stamped_with_the_moment_it_was_read(uow):
    as_of = views.accounts(None, uow)["as_of"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", as_of)
    assert views.moment(made_at(uow, 1)) <= as_of


# --- transactions --------------------------------------------------------------------------------------------------


def test_history_lists_transactions_newest_first_with_their_entries_and_request(uow):
    services.set_time("Bloomday", 14, None, uow)
    services.deliver_barrels("order-7", [SMALL_RED], uow)
    services.deliver_bottles("order-8", [(PotionType(100, 0, 0, 0), 2)], uow)
    page = views.transactions(HistoryQuery(), uow)
    assert [t["kind"] for t in page["transactions"]] == ["bottling", "barrel_purchase", "opening"]
    assert ids(page) == [3, 2, 1] and page["next_cursor"] is None
    assert page["transactions"][1] == {
        "id": 2,
        "created_at": views.moment(made_at(uow, 2)),
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
    services.deliver_barrels("1", [SMALL_RED], uow)
    services.deliver_bottles("1", [(PotionType(100, 0, 0, 0), 2)], uow)
    correct(uow, "shop/potion:RED_POTION", 1)
    assert ids(views.transactions(HistoryQuery(account="shop/gold"), uow)) == [2, 1]
    assert ids(views.transactions(HistoryQuery(account="shop/ml:red"), uow)) == [3, 2]
    assert ids(views.transactions(HistoryQuery(account="shop/potion:RED_POTION"), uow)) == [4, 3]
    assert ids(views.transactions(HistoryQuery(account="adjustments/potion:RED_POTION"), uow)) == [4]
    assert views.transactions(HistoryQuery(account="shop/ml:blue"), uow) == {"transactions": [], "next_cursor": None}


def test_history_between_two_moments_includes_both_ends(uow):
    corrections(uow, 3)
    assert ids(views.transactions(HistoryQuery(since=made_at(uow, 2), until=made_at(uow, 3)), uow)) == [3, 2]
    assert ids(views.transactions(HistoryQuery(since=made_at(uow, 3)), uow)) == [4, 3]
    assert ids(views.transactions(HistoryQuery(until=made_at(uow, 1)), uow)) == [1]


def walk(uow: FakeUnitOfWork, limit: int, **filters: object) -> list[list[int]]:
    """Every page of the history, following next_cursor until it is None."""
    pages, cursor = [], None
    while True:
        page = views.transactions(HistoryQuery(cursor=cursor, limit=limit, **filters), uow)
        pages.append(ids(page))
        if (cursor := page["next_cursor"]) is None:
            return pages


def test_history_pages_follow_the_cursor_with_no_duplicates_and_no_gaps(uow):
    corrections(uow, 6)
    assert walk(uow, 3) == [[7, 6, 5], [4, 3, 2], [1]]
    assert views.transactions(HistoryQuery(limit=3), uow)["next_cursor"] == "5"


def test_the_last_page_has_no_cursor_even_when_it_is_full(uow):
    corrections(uow, 5)
    assert walk(uow, 3) == [[6, 5, 4], [3, 2, 1]]
    assert walk(uow, 6) == [[6, 5, 4, 3, 2, 1]]
    assert walk(uow, 1) == [[6], [5], [4], [3], [2], [1]]


def test_paging_keeps_the_filters(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)  # 2
    corrections(uow, 2)  # 3, 4
    correct(uow, "shop/ml:red", -1, key="ml")  # 5
    correct(uow, "shop/gold", 1, key="gold")  # 6
    assert walk(uow, 2, account="shop/gold") == [[6, 4], [3, 2], [1]]
    assert walk(uow, 2, account="shop/gold", since=made_at(uow, 2), until=made_at(uow, 5)) == [[4, 3], [2]]


# --- audit at a moment ---------------------------------------------------------------------------------------------


def test_the_audit_at_a_past_moment_shows_the_totals_of_then(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    services.deliver_bottles("1", [(PotionType(100, 0, 0, 0), 2)], uow)
    assert views.audit(made_at(uow, 1), uow) == NEW_SHOP
    assert views.audit(made_at(uow, 2), uow) == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}
    assert views.audit(made_at(uow, 3), uow) == {"number_of_potions": 2, "ml_in_barrels": 300, "gold": 0}
    assert views.audit(None, uow) == views.audit(made_at(uow, 3), uow)
    assert views.audit(datetime(2000, 1, 1), uow) == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 0}
