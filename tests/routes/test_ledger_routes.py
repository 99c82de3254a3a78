"""The ledger routes over HTTP, on SQLite and PostgreSQL: the audit and the accounts at a moment, the paged history,
and idempotent corrections. Past moments are read off the history (`created_at`), so no test sleeps."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from werkzeug.test import TestResponse

from tests.helpers import NEW_SHOP, OPENED, SMALL_RED, barrel_json, new_key, random_order_id
from tests.routes.shop_client import ShopClient, assert_error

BOUGHT = {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}  # NEW_SHOP after one small red barrel
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


def history(shop: ShopClient, **params: Any) -> list[dict[str, Any]]:
    """One page of the history (the default limit of 50 holds every test's history)."""
    page = ok(get(shop, "/ledger/transactions", **params))
    assert page["next_cursor"] is None
    return page["transactions"]  # type: ignore[no-any-return]


def made_at(shop: ShopClient, txn_id: int) -> str:
    """When transaction `txn_id` was made, as the history spells it (ISO 8601, UTC, with a Z)."""
    return next(t["created_at"] for t in history(shop) if t["id"] == txn_id)


def balances(shop: ShopClient, **params: Any) -> dict[str, int]:
    return {a["account"]: a["balance"] for a in ok(get(shop, "/ledger/accounts", **params))["accounts"]}


def buy_small_red(shop: ShopClient, order_id: str | None = None) -> None:
    """Transaction 2 on a new shop: 100 gold for 500 ml of red."""
    response = shop.post(f"/barrels/deliver/{order_id or random_order_id()}", json=[barrel_json(SMALL_RED)])
    assert response.status_code == 204, response.data


def correct(shop: ShopClient, body: Any, key: str | None = "fresh", auth: bool | str = True) -> TestResponse:
    """POST a correction under `key` ("fresh": a new key; None: no Idempotency-Key header at all)."""
    return shop.post("/ledger/corrections", json=body, key=new_key() if key == "fresh" else key, auth=auth)


def corrections(shop: ShopClient, n: int) -> None:
    """`n` one-gold corrections, each with its own key."""
    for _ in range(n):
        assert correct(shop, {**FOUND_COINS, "change": 1}).status_code == 200


# --- GET /inventory/audit?at= --------------------------------------------------------------------------------------


def test_the_audit_at_a_past_moment_gives_the_totals_of_then(shop):
    buy_small_red(shop)
    assert ok(get(shop, "/inventory/audit", at=made_at(shop, 1))) == NEW_SHOP
    assert ok(get(shop, "/inventory/audit", at=made_at(shop, 2))) == BOUGHT
    assert ok(get(shop, "/inventory/audit", at="2000-01-01T00:00:00Z")) == {
        "number_of_potions": 0,
        "ml_in_barrels": 0,
        "gold": 0,
    }
    assert shop.audit() == BOUGHT


def test_a_moment_with_an_offset_is_converted_to_utc(shop):
    buy_small_red(shop)
    opened = datetime.fromisoformat(made_at(shop, 1).removesuffix("Z"))
    in_cairo = (opened + timedelta(hours=2)).isoformat(timespec="microseconds") + "+02:00"
    in_bogota = (opened - timedelta(hours=5)).isoformat(timespec="microseconds") + "-05:00"
    assert ok(get(shop, "/inventory/audit", at=in_cairo)) == NEW_SHOP  # read as 2 hours later, it would be BOUGHT
    assert ok(get(shop, "/inventory/audit", at=in_bogota)) == NEW_SHOP  # read as 5 hours earlier, all zero
    naive = opened.isoformat(timespec="microseconds")
    assert ok(get(shop, "/inventory/audit", at=naive)) == NEW_SHOP  # no offset: already UTC


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


def test_the_accounts_of_a_new_shop_are_its_opening_stock_and_the_world_that_gave_it(shop):
    body = ok(shop.get("/ledger/accounts"))
    assert list(body) == ["as_of", "accounts"]
    assert datetime.fromisoformat(body["as_of"].removesuffix("Z")) >= datetime.fromisoformat(
        made_at(shop, 1).removesuffix("Z")
    )
    assert body["accounts"] == [
        {"account": account, "owner": account.split("/")[0], "commodity": account.split("/")[1], "balance": balance}
        for account, balance in sorted(OPENED.items(), key=lambda a: tuple(a[0].split("/")))
    ]


def test_the_accounts_at_a_past_moment_give_the_balances_of_then(shop):
    buy_small_red(shop)
    opened = made_at(shop, 1)
    assert ok(get(shop, "/ledger/accounts", at=opened))["as_of"] == opened
    later = {"shop/ml:red": 0, "suppliers/gold": 0, "suppliers/ml:red": 0}  # opened since, so 0 back then
    assert balances(shop, at=opened) == {**OPENED, **later}
    assert balances(shop) == {
        **OPENED,
        "shop/gold": 0,
        "shop/ml:red": 500,
        "suppliers/gold": 100,
        "suppliers/ml:red": -500,
    }


def test_a_bad_moment_for_the_accounts_is_a_422_naming_at(shop):
    assert_invalid(get(shop, "/ledger/accounts", at="noon"), 422, "at")
    assert_invalid(get(shop, "/ledger/accounts", owner="shop"), 422, "owner")


# --- GET /ledger/transactions --------------------------------------------------------------------------------------


def test_a_new_shop_has_one_transaction_its_opening(shop):
    [opening] = history(shop)
    assert opening == {
        "id": 1,
        "created_at": opening["created_at"],
        "kind": "opening",
        "description": "shop opened with its starting stock",
        "game_time": None,
        "request": {"route": "system/open", "key": "opening"},
        "entries": [
            {"account": "world/gold", "change": -100, "balance_after": -100},
            {"account": "shop/gold", "change": 100, "balance_after": 100},
            {"account": "world/ml_capacity", "change": -1, "balance_after": -1},
            {"account": "shop/ml_capacity", "change": 1, "balance_after": 1},
            {"account": "world/potion_capacity", "change": -1, "balance_after": -1},
            {"account": "shop/potion_capacity", "change": 1, "balance_after": 1},
        ],
    }


def test_each_transaction_carries_its_entries_running_balances_game_time_and_request(shop):
    assert shop.post("/info/current_time", json={"day": "Bloomday", "hour": 9}).status_code == 204
    order_id = random_order_id()
    buy_small_red(shop, order_id)
    key = new_key()
    assert correct(shop, {"account": "shop/ml:red", "change": -20, "reason": "spilled"}, key).status_code == 200
    newest, bought, _ = history(shop)
    assert (newest["id"], bought["id"]) == (3, 2)
    assert bought["request"] == {"route": "barrels/deliver", "key": order_id}
    assert bought["game_time"] == {"day": "Bloomday", "hour": 9}
    assert bought["entries"] == [
        {"account": "shop/gold", "change": -100, "balance_after": 0},
        {"account": "suppliers/gold", "change": 100, "balance_after": 100},
        {"account": "suppliers/ml:red", "change": -500, "balance_after": -500},
        {"account": "shop/ml:red", "change": 500, "balance_after": 500},
    ]
    assert {k: v for k, v in newest.items() if k != "created_at"} == {
        "id": 3,
        "kind": "correction",
        "description": "correction of shop/ml:red by -20: spilled",
        "game_time": {"day": "Bloomday", "hour": 9},
        "request": {"route": "ledger/corrections", "key": key},
        "entries": [
            {"account": "adjustments/ml:red", "change": 20, "balance_after": 20},
            {"account": "shop/ml:red", "change": -20, "balance_after": 480},
        ],
    }
    assert newest["created_at"] >= bought["created_at"]


def test_the_history_pages_follow_next_cursor_to_the_end_with_no_duplicates_or_gaps(shop):
    corrections(shop, 6)
    everything = [t["id"] for t in history(shop)]
    assert everything == [7, 6, 5, 4, 3, 2, 1]
    pages, cursor = [], None
    while True:
        page = ok(get(shop, "/ledger/transactions", limit=3, **({"cursor": cursor} if cursor else {})))
        pages.append([t["id"] for t in page["transactions"]])
        if (cursor := page["next_cursor"]) is None:
            break
        assert cursor == str(pages[-1][-1])
    assert pages == [[7, 6, 5], [4, 3, 2], [1]]
    assert ok(get(shop, "/ledger/transactions", limit=7))["next_cursor"] is None  # a full last page ends too


def test_the_history_filters_by_account_and_by_time(shop):
    buy_small_red(shop)  # 2: gold and red ml
    corrections(shop, 1)  # 3: gold
    assert correct(shop, {**FOUND_COINS, "account": "shop/ml:red", "change": -1}).status_code == 200  # 4: red ml
    assert [t["id"] for t in history(shop, account="shop/gold")] == [3, 2, 1]
    assert [t["id"] for t in history(shop, account="shop/ml:red")] == [4, 2]
    assert [t["id"] for t in history(shop, account="adjustments/ml:red")] == [4]
    assert history(shop, account="shop/ml:blue") == []
    assert [t["id"] for t in history(shop, since=made_at(shop, 2), until=made_at(shop, 3))] == [3, 2]
    assert [t["id"] for t in history(shop, account="shop/gold", since=made_at(shop, 2))] == [3, 2]


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


def test_a_retried_correction_replays_the_same_bytes_and_corrects_once(shop):
    key = new_key()
    first = correct(shop, FOUND_COINS, key)
    corrections(shop, 1)  # something a second run would answer differently: the balance is now 126
    again = correct(shop, FOUND_COINS, key)
    assert again.status_code == 200
    assert again.data == first.data == b'{"transaction_id":2,"account":"shop/gold","change":25,"balance":125}'
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shop.audit()["gold"] == 126
    assert [t["kind"] for t in history(shop)] == ["correction", "correction", "opening"]


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


def test_a_correction_that_drives_shop_gold_below_zero_is_refused_and_changes_nothing(shop):
    key = new_key()
    response = correct(shop, {**FOUND_COINS, "change": -101}, key)
    assert_error(response, 409, "insufficient_gold")
    assert response.json["message"] == "this needs 101 gold but the shop has 100"
    assert shop.audit() == NEW_SHOP
    assert len(history(shop)) == 1
    retry = correct(shop, {**FOUND_COINS, "change": -100}, key)  # the refusal kept no key
    assert retry.status_code == 200 and "Idempotent-Replayed" not in retry.headers
    assert shop.audit() == {**NEW_SHOP, "gold": 0}


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


def test_the_ledger_routes_need_the_shops_key(shop, subtests):
    for credential in (False, "wrong-key"):
        with subtests.test(key=credential):
            assert_error(correct(shop, FOUND_COINS, auth=credential), 401, "unauthorized")
            assert_error(shop.get("/ledger/accounts", auth=credential), 401, "unauthorized")
            assert_error(shop.get("/ledger/transactions", auth=credential), 401, "unauthorized")
            assert_error(shop.get(f"/inventory/audit?at={made_at(shop, 1)}", auth=credential), 401, "unauthorized")
    assert shop.audit() == NEW_SHOP
    assert len(history(shop)) == 1


def test_the_ledger_views_only_read_and_corrections_only_post(shop):
    assert_error(shop.post("/ledger/accounts", json={}), 405, "method_not_allowed")
    assert_error(shop.post("/ledger/transactions", json={}), 405, "method_not_allowed")
    assert_error(shop.get("/ledger/corrections"), 405, "method_not_allowed")
    assert len(history(shop)) == 1
