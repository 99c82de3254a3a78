"""Order search over HTTP (`GET /carts/search/`, the course's V5), on SQLite and PostgreSQL: the reply's exact shape,
paging by token both ways, filters, refusals naming the parameter, and CORS for the exchange's web page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from werkzeug.test import TestResponse

from cauldrons.app import create_app
from cauldrons.config import EXCHANGE_ORIGIN, Config
from tests.fakes import FakeUnitOfWork
from tests.helpers import ALICE, API_KEY, customer_json
from tests.routes.shop_client import ShopClient, assert_error

BLUE_RECIPE = [0, 0, 100, 0]
MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


def search(shop: ShopClient, **params: Any) -> TestResponse:
    return shop.client.get("/carts/search/", query_string=params, headers={"access_token": API_KEY})


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


@pytest.mark.parametrize(
    "params, field",
    [
        ({"sort_col": "price"}, "sort_col"),
        ({"sort_col": ""}, "sort_col"),
        ({"sort_order": "up"}, "sort_order"),
        ({"search_page": "garbage"}, "search_page"),
        ({"customer_name": "x" * 256}, "customer_name"),
        ({"potion_sku": "a\x00b"}, "potion_sku"),
    ],
)
def test_a_bad_parameter_is_a_422_naming_it(shop, params, field):
    response = search(shop, **params)
    assert_error(response, 422, "validation_error")
    assert list(response.json["fields"]) == [field]


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


def test_a_repeated_parameter_is_refused(shop):
    response = shop.client.get("/carts/search/?sort_col=timestamp&sort_col=item_sku", headers={"access_token": API_KEY})
    assert_error(response, 422, "validation_error")
    assert list(response.json["fields"]) == ["sort_col"]


# --- CORS: the exchange's "search orders" page calls this from the browser ----------------------------------------


def preflight(shop: ShopClient, origin: str, path: str = "/carts/search/") -> TestResponse:
    return shop.client.options(
        path,
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "access_token",
        },
    )


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


def test_the_granted_origins_are_configurable():
    app = create_app(Config("sqlite://", API_KEY, cors_origins=("https://shop.example",)), uow_factory=FakeUnitOfWork)
    shop = ShopClient(app.test_client())
    assert preflight(shop, "https://shop.example").headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in preflight(shop, EXCHANGE_ORIGIN).headers


def test_a_token_signed_with_the_key_but_malformed_inside_is_a_422_not_a_500(shop):
    """The dev key is public, so anyone can sign a token with it: what is inside is still checked."""
    from itsdangerous import URLSafeSerializer

    signer = URLSafeSerializer(API_KEY, salt="cauldrons.carts.search")
    search_of = {"timestamp": ["", "", "timestamp", "desc"], "line_item_total": ["", "", "line_item_total", "desc"]}
    for col, value, line_id in (
        ("timestamp", 5, 1),
        ("timestamp", "not a time", 1),
        ("line_item_total", "7", 1),
        ("line_item_total", True, 1),
        ("line_item_total", 7, "1"),
    ):
        token = signer.dumps({"search": search_of[col], "backward": False, "id": line_id, "value": value})
        response = search(shop, sort_col=col, search_page=token)
        assert_error(response, 422, "validation_error")
        assert list(response.json["fields"]) == ["search_page"]
