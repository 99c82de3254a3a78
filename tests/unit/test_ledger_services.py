"""Corrections and the ledger's views of the balances now (accounts, audit) on fakes, in the services' own terms.
The history and the balances at a past moment are the database's reads: tests/integration/test_ledger_views.py."""

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
from service_layer import services, views
from service_layer.idempotency import Reply, RequestKey
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


def balances(uow: FakeUnitOfWork) -> dict[str, int]:
    return {row["account"]: row["balance"] for row in views.accounts(None, uow)["accounts"]}


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


def test_accounts_now_is_stamped_with_the_moment_it_was_read(uow):
    as_of = views.accounts(None, uow)["as_of"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", as_of)
    assert views.moment(made_at(uow, 1)) <= as_of
