"""The read side over HTTP on SQLite and PostgreSQL, the app over a real migrated database (copied from the
session's template, as every database test's is): the metrics (and the charts shaped from them), the order search,
and the ledger's history, accounts and audit at a moment, which only a database computes (the fakes keep the write
side only). What needs no database (bad input, auth, the dashboard page) stays in tests/routes, over the fakes."""

from __future__ import annotations

import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from cauldrons.bootstrap import Wiring
from cauldrons.config import EXCHANGE_ORIGIN
from domain.metrics import TITLES, Metric, MetricsQuery
from entrypoints import metrics as metrics_routes
from entrypoints.charts import render, series, shape
from entrypoints.metrics import FRESH_SECONDS, Replies
from tests.helpers import (
    ALICE,
    API_KEY,
    NEW_SHOP,
    OPENED,
    SMALL_RED,
    WHOLESALE,
    barrel_json,
    customer_json,
    new_key,
    random_order_id,
)
from tests.metrics_game import EXPECTED, buy, play
from tests.routes.shop_client import ShopClient, assert_error
from tests.routes.test_ledger_routes import FOUND_COINS, balances, correct, get, ok
from tests.routes.test_search import preflight, search


@pytest.fixture
def shop(client) -> ShopClient:  # type: ignore[no-untyped-def]
    """pytest-flask's client over the real app (tests/conftest.py's `app`), speaking the shop's API with its key."""
    return ShopClient(client)


# --- GET /metrics/..., and the charts drawn from them -----------------------------------------------------------


@pytest.fixture
def played(wiring: Wiring) -> Wiring:
    play(wiring.uow_factory)
    return wiring


def recorded_offers(wiring: Wiring) -> int:
    """How many barrel offers the database recorded."""
    with wiring.engine.connect() as conn:
        return int(conn.execute(text("SELECT COUNT(*) FROM barrel_offers")).scalar_one())


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_each_metric_answers_its_rows_as_json(shop: ShopClient, played, metric):
    answer = shop.get(f"/metrics/{metric}")
    assert answer.status_code == 200
    assert answer.json == {"metric": str(metric), "rows": EXPECTED[metric]}


def test_the_query_string_filters_the_rows(shop: ShopClient, played):
    sales = EXPECTED[Metric.SALES_BY_HOUR]
    assert shop.get("/metrics/sales_by_hour?day=Edgeday&hour=2").json["rows"] == [sales[1]]
    assert shop.get("/metrics/sales_by_hour?until=2000-01-01T00:00:00Z").json["rows"] == []
    assert shop.get("/metrics/profit?since=2000-01-01T00:00:00%2B02:00").json["rows"] == EXPECTED[Metric.PROFIT]
    balances = shop.get("/metrics/balances?points=1").json["rows"]
    assert sorted({(r["day"], r["hour"]) for r in balances}) == [("Bloomday", 0), ("Edgeday", 0)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r["at"]) for r in balances)


@pytest.mark.parametrize("metric", list(Metric))
def test_each_chart_keeps_its_metrics_totals(shop: ShopClient, played, metric):
    """The dashboard and the report draw each metric's rows shaped into a bounded chart (`entrypoints/charts.py`;
    `dashboard.js` shapes them alike): for this small game one slot per game hour (or day, or buyer group), each
    potion its own series, and every total kept."""
    rows = shop.get(f"/metrics/{metric}").json["rows"]
    chart = shape(metric, rows)
    drawn = [v or 0 for panel in chart.panels for s in panel.series for v in s.values]
    if metric is Metric.BALANCES:
        lines = series(rows)
        found = {s.label: [v for v in s.values if v is not None] for p in chart.panels for s in p.series}
        assert found == {name: [value for _, value in points] for name, points in lines.items()}
        assert set(found) >= {"gold", "potions", "potion_capacity", "ml_capacity"}
    elif metric is Metric.BARREL_OFFERS:
        cheapest: dict[tuple[str, str], float] = {}
        for r in rows:
            at = (f"{r['day']} {r['hour']:02d}", r["liquid"])
            cheapest[at] = min(cheapest.get(at, r["gold_per_ml"]), r["gold_per_ml"])
        assert {
            (x, s.label): v for p in chart.panels for s in p.series for x, v in zip(chart.x, s.values) if v is not None
        } == cheapest
    else:
        column = {
            Metric.SALES_BY_HOUR: ["potions"],
            Metric.BUYERS: ["potions"],
            Metric.CONVERSION: ["visitors", "checkouts"],
            Metric.PROFIT: ["profit", "revenue"],
        }[metric]
        assert sum(drawn) == sum(r[c] for r in rows for c in column) != 0
    assert len(chart.x) == len({tuple(r.get(k) for k in X_KEYS[metric]) for r in rows})
    assert render(metric, TITLES[metric], rows).startswith(PNG)


X_KEYS = {
    Metric.SALES_BY_HOUR: ("day", "hour"),
    Metric.BARREL_OFFERS: ("day", "hour"),
    Metric.BUYERS: ("class", "species"),
    Metric.CONVERSION: ("day", "hour"),
    Metric.BALANCES: ("tick",),
    Metric.PROFIT: ("day",),
}
PNG = b"\x89PNG\r\n\x1a\n"


def test_a_metric_of_nothing_is_no_rows_and_a_chart_that_says_so(shop: ShopClient):
    for metric in Metric:
        answer = shop.get(f"/metrics/{metric}")
        assert answer.status_code == 200 and answer.json == {"metric": str(metric), "rows": []}
        assert render(metric, TITLES[metric], []).startswith(PNG)


def test_a_metrics_reply_is_kept_fresh_seconds_then_asked_again(app, shop: ShopClient, played):
    """Within FRESH_SECONDS a worker answers a metric's reply again as it was, per query: what was sold since shows
    once the reply is older than that."""
    now = [1000.0]
    kept = metrics_routes.replies_of(app)
    kept.clock = lambda: now[0]
    first = shop.get("/metrics/sales_by_hour").json
    other = shop.get("/metrics/sales_by_hour?hour=0").json
    buy(played.uow_factory, ALICE, 1)  # the last red potion
    now[0] += FRESH_SECONDS - 0.01
    assert shop.get("/metrics/sales_by_hour").json == first  # kept
    assert shop.get("/metrics/sales_by_hour?hour=0").json == other
    now[0] += 0.02
    again = shop.get("/metrics/sales_by_hour").json
    assert again != first and sum(r["potions"] for r in again["rows"]) == sum(r["potions"] for r in first["rows"]) + 1
    assert kept.queries == 3


def test_requests_for_one_metric_at_once_ask_the_database_once_and_queries_run_one_at_a_time():
    replies = Replies(fresh=60)
    running, most, lock = [0], [0], threading.Lock()

    def compute(name: str) -> dict[str, str]:
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(0.05)
        with lock:
            running[0] -= 1
        return {"metric": name}

    keys = [(Metric.BUYERS, MetricsQuery())] * 6 + [(Metric.PROFIT, MetricsQuery(day="Edgeday"))] * 6
    with ThreadPoolExecutor(len(keys)) as pool:
        bodies = list(pool.map(lambda key: replies.body(key, lambda: compute(key[0])), keys))
    assert bodies == [b'{"metric":"buyers"}'] * 6 + [b'{"metric":"profit"}'] * 6
    assert replies.queries == 2 and most[0] == 1


def test_the_barrel_plan_replies_as_before_and_records_the_offers_once_per_tick(shop: ShopClient, wiring):
    offers = [barrel_json(b) for b in WHOLESALE]
    before = shop.post("/barrels/plan", offers)
    shop.post("/info/current_time", {"day": "Edgeday", "hour": 0})
    first, again = shop.post("/barrels/plan", offers), shop.post("/barrels/plan", offers)
    assert before.data == first.data == again.data and first.status_code == 200
    assert recorded_offers(wiring) == len(WHOLESALE)
    assert len(shop.get("/metrics/barrel_offers").json["rows"]) == len(WHOLESALE)


# --- GET /carts/search/ --------------------------------------------------------------------------------------------

BLUE_RECIPE = [0, 0, 100, 0]
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def sell(shop: ShopClient, name: str = "Alice", **items: int) -> int:
    cart_id = shop.open_cart({**customer_json(ALICE), "customer_name": name})
    for sku, quantity in items.items():
        shop.set_item(cart_id, sku, quantity)
    response = shop.post(f"/carts/{cart_id}/checkout", json={"payment": "gold"})
    assert response.status_code == 200, response.data
    return cart_id


def test_a_checkout_is_found_line_by_line_with_what_was_paid(shop):
    shop.stock(potions=3)
    shop.stock(BLUE_RECIPE, 1)
    sell(shop, "Scaramouche", RED_POTION=2, BLUE_POTION=1)
    shop.open_cart()  # an open cart is not an order
    response = search(shop, sort_col="item_sku", sort_order="asc")
    assert response.status_code == 200 and response.content_type == "application/json"
    body = response.json
    assert list(body) == ["previous", "next", "results"] and body["previous"] is body["next"] is None
    assert [{k: v for k, v in r.items() if k not in ("line_item_id", "timestamp")} for r in body["results"]] == [
        {"item_sku": "1 blue potion", "customer_name": "Scaramouche", "line_item_total": 60},
        {"item_sku": "2 red potion", "customer_name": "Scaramouche", "line_item_total": 100},
    ]
    for result in body["results"]:
        assert list(result) == ["line_item_id", "item_sku", "customer_name", "line_item_total", "timestamp"]
        assert isinstance(result["line_item_id"], int) and MOMENT.match(result["timestamp"])
    assert len({r["line_item_id"] for r in body["results"]}) == 2


def test_next_walks_every_line_once_and_previous_of_page_two_is_page_one(shop):
    shop.stock(potions=12)
    carts = [sell(shop, RED_POTION=1) for _ in range(12)]
    first = search(shop)
    pages, seen = [first], []
    while pages[-1].json["next"]:
        pages.append(search(shop, search_page=pages[-1].json["next"]))
    for page in pages:
        assert page.status_code == 200
        seen += [r["line_item_id"] for r in page.json["results"]]
    assert [len(p.json["results"]) for p in pages] == [5, 5, 2]
    assert len(seen) == len(set(seen)) == len(carts)
    assert seen == sorted(seen, reverse=True)  # newest first: the lines were sold one after another
    assert search(shop, search_page=pages[1].json["previous"]).data == first.data


def test_filters_are_case_insensitive_contains_with_wildcards_taken_literally(shop):
    shop.stock(potions=3)
    shop.stock(BLUE_RECIPE, 1)
    for name in ("Scaramouche", "100% Bob", "Bobby"):
        sell(shop, name, RED_POTION=1)
    sell(shop, "Zed", BLUE_POTION=1)

    def names(**filters: str) -> list[str]:
        response = search(shop, **filters, sort_col="customer_name", sort_order="asc")
        assert response.status_code == 200, response.data
        return [r["customer_name"] for r in response.json["results"]]

    assert names(customer_name="BOB") == ["100% Bob", "Bobby"]
    assert names(customer_name="%") == ["100% Bob"]
    assert names(customer_name="_") == []
    assert names(potion_sku="blue") == ["Zed"]
    assert names(customer_name="", potion_sku="") == ["100% Bob", "Bobby", "Scaramouche", "Zed"]


def test_a_token_tampered_with_or_brought_to_another_search_is_refused(shop):
    shop.stock(potions=6)
    for _ in range(6):
        sell(shop, "Scaramouche", RED_POTION=1)
    token = search(shop, customer_name="scara").json["next"]
    assert search(shop, customer_name="scara", search_page=token).status_code == 200
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    for params in (
        {"customer_name": "scara", "search_page": tampered},
        {"customer_name": "scar", "search_page": token},
        {"customer_name": "scara", "sort_order": "asc", "search_page": token},
        {"customer_name": "scara", "sort_col": "line_item_total", "search_page": token},
    ):
        response = search(shop, **params)
        assert_error(response, 422, "validation_error")
        assert list(response.json["fields"]) == ["search_page"]


def test_the_exchanges_page_is_granted_the_search_and_nothing_else(shop):
    response = preflight(shop, EXCHANGE_ORIGIN)
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == EXCHANGE_ORIGIN
    assert "access_token" in response.headers["Access-Control-Allow-Headers"].lower()
    assert "GET" in response.headers["Access-Control-Allow-Methods"]
    answered = shop.client.get("/carts/search/", headers={"Origin": EXCHANGE_ORIGIN, "access_token": API_KEY})
    assert answered.status_code == 200 and answered.headers["Access-Control-Allow-Origin"] == EXCHANGE_ORIGIN
    refused = shop.client.get("/carts/search/", headers={"Origin": EXCHANGE_ORIGIN})  # the page can read its 401
    assert_error(refused, 401, "unauthorized")
    assert refused.headers["Access-Control-Allow-Origin"] == EXCHANGE_ORIGIN
    other_route = shop.client.get("/inventory/audit", headers={"Origin": EXCHANGE_ORIGIN, "access_token": API_KEY})
    assert other_route.status_code == 200 and "Access-Control-Allow-Origin" not in other_route.headers
    assert_error(preflight(shop, EXCHANGE_ORIGIN, "/inventory/audit"), 401, "unauthorized")


def test_other_origins_get_no_grant(shop):
    assert "Access-Control-Allow-Origin" not in preflight(shop, "https://evil.example").headers
    answered = shop.client.get("/carts/search/", headers={"Origin": "https://evil.example", "access_token": API_KEY})
    assert "Access-Control-Allow-Origin" not in answered.headers


# --- GET /inventory/audit?at=, /ledger/accounts, /ledger/transactions ---------------------------------------------

BOUGHT = {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}  # NEW_SHOP after one small red barrel


def history(shop: ShopClient, **params: Any) -> list[dict[str, Any]]:
    """One page of the history (the default limit of 50 holds every test's history)."""
    page = ok(get(shop, "/ledger/transactions", **params))
    assert page["next_cursor"] is None
    return page["transactions"]  # type: ignore[no-any-return]


def made_at(shop: ShopClient, txn_id: int) -> str:
    """When transaction `txn_id` was made, as the history spells it (ISO 8601, UTC, with a Z)."""
    return next(t["created_at"] for t in history(shop) if t["id"] == txn_id)


def buy_small_red(shop: ShopClient, order_id: str | None = None) -> None:
    """Transaction 2 on a new shop: 100 gold for 500 ml of red."""
    response = shop.post(f"/barrels/deliver/{order_id or random_order_id()}", json=[barrel_json(SMALL_RED)])
    assert response.status_code == 204, response.data


def corrections(shop: ShopClient, n: int) -> None:
    """`n` one-gold corrections, each with its own key."""
    for _ in range(n):
        assert correct(shop, {**FOUND_COINS, "change": 1}).status_code == 200


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
