"""The ledger routes over HTTP, on the fakes: idempotent corrections, and bad input refused naming the parameter.
The audit and the accounts at a moment and the paged history come from the database, and so do the tests that read
them: tests/integration/test_read_routes.py (past moments are read off the history, so no test sleeps)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from werkzeug.test import TestResponse

from tests.helpers import NEW_SHOP, new_key
from tests.routes.shop_client import ShopClient, assert_error

FOUND_COINS = {"account": "shop/gold", "change": 25, "reason": "found coins under the counter"}


def assert_invalid(response: TestResponse, status: int, field: str) -> None:
    """A validation error naming exactly `field`."""
    assert_error(response, status, "validation_error")
    assert list(response.json["fields"]) == [field], response.json
    assert response.json["message"] == f"invalid {field}"


def get(shop: ShopClient, path: str, **params: Any) -> TestResponse:
    return shop.get(f"{path}?{urlencode(params)}" if params else path)


def ok(response: TestResponse) -> Any:
    assert response.status_code == 200, response.data
    assert response.content_type == "application/json"
    return response.json


def balances(shop: ShopClient, **params: Any) -> dict[str, int]:
    return {a["account"]: a["balance"] for a in ok(get(shop, "/ledger/accounts", **params))["accounts"]}


def correct(shop: ShopClient, body: Any, key: str | None = "fresh", auth: bool | str = True) -> TestResponse:
    """POST a correction under `key` ("fresh": a new key; None: no Idempotency-Key header at all)."""
    return shop.post("/ledger/corrections", json=body, key=new_key() if key == "fresh" else key, auth=auth)


# --- GET /inventory/audit?at= --------------------------------------------------------------------------------------


def test_a_bad_query_parameter_of_the_audit_is_a_422_naming_it(shop, subtests):
    for query, field in [
        ("at=yesterday", "at"),
        ("at=2026-13-01T00:00:00Z", "at"),
        ("at=", "at"),
        ("at=2026-01-01T00:00:00+02:00", "at"),  # an unencoded + arrives as a space
        ("at=2026-01-01T00:00:00Z&at=2026-01-02T00:00:00Z", "at"),
    ]:
        with subtests.test(query):
            assert_invalid(shop.get(f"/inventory/audit?{query}"), 422, field)


def test_the_audit_a_contract_route_ignores_parameters_it_does_not_know(shop):
    assert ok(shop.get("/inventory/audit?_=1732660000")) == NEW_SHOP


def test_a_moment_that_leaves_the_calendar_in_utc_is_a_422_naming_at(shop, subtests):
    for moment in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:00:00-05:00"):
        with subtests.test(moment):
            assert_invalid(get(shop, "/inventory/audit", at=moment), 422, "at")


# --- GET /ledger/accounts ------------------------------------------------------------------------------------------


def test_a_bad_moment_for_the_accounts_is_a_422_naming_at(shop):
    assert_invalid(get(shop, "/ledger/accounts", at="noon"), 422, "at")
    assert_invalid(get(shop, "/ledger/accounts", owner="shop"), 422, "owner")


# --- GET /ledger/transactions --------------------------------------------------------------------------------------


def test_a_bad_query_parameter_of_the_history_is_a_422_naming_it(shop, subtests):
    for query, field in [
        ("cursor=abc", "cursor"),
        ("cursor=0", "cursor"),
        ("cursor=-3", "cursor"),
        ("limit=0", "limit"),
        ("limit=501", "limit"),
        ("limit=ten", "limit"),
        ("limit=2.5", "limit"),
        ("account=shop", "account"),
        ("account=Shop/gold", "account"),
        ("since=soon", "since"),
        ("until=2026-02-30T00:00:00Z", "until"),
        ("page=2", "page"),
        ("limit=2&limit=3", "limit"),
    ]:
        with subtests.test(query):
            assert_invalid(shop.get(f"/ledger/transactions?{query}"), 422, field)


# --- POST /ledger/corrections --------------------------------------------------------------------------------------


def test_a_correction_answers_its_transaction_and_the_new_balance(shop):
    response = correct(shop, FOUND_COINS)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.data == b'{"transaction_id":2,"account":"shop/gold","change":25,"balance":125}'
    assert "Idempotent-Replayed" not in response.headers
    assert shop.audit() == {**NEW_SHOP, "gold": 125}
    assert balances(shop)["adjustments/gold"] == -25


def test_a_correction_without_an_idempotency_key_is_a_422_naming_the_header(shop):
    response = correct(shop, FOUND_COINS, key=None)
    assert_error(response, 422, "validation_error")
    assert response.json["fields"] == {"Idempotency-Key": ["required on this route"]}
    assert shop.audit() == NEW_SHOP


def test_a_key_reused_for_another_correction_is_refused_and_changes_nothing(shop):
    key = new_key()
    first = correct(shop, FOUND_COINS, key)
    reused = correct(shop, {**FOUND_COINS, "change": 26}, key)
    assert_error(reused, 422, "idempotency_key_reused")
    assert shop.audit()["gold"] == 125
    assert correct(shop, FOUND_COINS, key).data == first.data


def test_a_bad_correction_is_a_422_naming_the_field_and_changes_nothing(shop, subtests):
    for field, body in [
        ("change", {**FOUND_COINS, "change": 0}),
        ("change", {**FOUND_COINS, "change": 1.5}),
        ("change", {**FOUND_COINS, "change": "25"}),
        ("change", {**FOUND_COINS, "change": True}),
        ("change", {**FOUND_COINS, "change": 1_000_001}),
        ("change", {"account": "shop/gold", "reason": "why"}),
        ("account", {**FOUND_COINS, "account": "shop"}),
        ("account", {**FOUND_COINS, "account": "shop gold"}),
        ("account", {**FOUND_COINS, "account": "Shop/gold"}),
        ("account", {**FOUND_COINS, "account": 7}),
        ("reason", {**FOUND_COINS, "reason": ""}),
        ("reason", {"account": "shop/gold", "change": 1}),
        ("extra", {**FOUND_COINS, "extra": 1}),
    ]:
        with subtests.test(f"{field}: {body}"):
            assert_invalid(correct(shop, body), 422, field)
            assert shop.audit() == NEW_SHOP


def test_a_correction_may_fill_the_shop_past_its_capacity(shop):
    assert correct(shop, {**FOUND_COINS, "account": "shop/potion:RED_POTION", "change": 51}).status_code == 200
    assert shop.audit() == {**NEW_SHOP, "number_of_potions": 51}


def test_a_correction_of_an_account_that_cannot_be_corrected_is_a_404(shop, subtests):
    for account in ("nobody/gold", "shop/silver", "shop/potion:NO_SUCH_POTION", "adjustments/gold"):
        with subtests.test(account):
            response = correct(shop, {**FOUND_COINS, "account": account})
            assert_error(response, 404, "unknown_account")
            assert response.json["message"] == f"there is no account {account} that can be corrected"
            assert shop.audit() == NEW_SHOP
