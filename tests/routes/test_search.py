"""Order search over HTTP (`GET /carts/search/`, the course's V5), on the fakes: refusals naming the parameter, and
CORS preflights. What a search finds (the reply's exact shape, paging by token both ways, filters, CORS on answered
searches) comes from the database: tests/integration/test_read_routes.py."""

from __future__ import annotations

from typing import Any

import pytest
from werkzeug.test import TestResponse

from cauldrons.app import create_app
from cauldrons.config import EXCHANGE_ORIGIN, Config
from tests.fakes import FakeUnitOfWork
from tests.helpers import API_KEY
from tests.routes.shop_client import ShopClient, assert_error


def search(shop: ShopClient, **params: Any) -> TestResponse:
    return shop.client.get("/carts/search/", query_string=params, headers={"access_token": API_KEY})


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


def test_the_granted_origins_are_configurable():
    app = create_app(Config("sqlite://", API_KEY, cors_origins=("https://shop.example",)), uow_factory=FakeUnitOfWork)
    shop = ShopClient(app.test_client())
    assert preflight(shop, "https://shop.example").headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "Access-Control-Allow-Origin" not in preflight(shop, EXCHANGE_ORIGIN).headers


def test_a_token_signed_with_the_secret_but_malformed_inside_is_a_422_not_a_500():
    """Whoever holds the secret (`SECRET_KEY`, here) can sign any token: what is inside is still checked."""
    from itsdangerous import URLSafeSerializer

    app = create_app(Config("sqlite://", API_KEY, secret_key="its own"), uow_factory=FakeUnitOfWork)
    shop = ShopClient(app.test_client())
    signer = URLSafeSerializer("its own", salt="cauldrons.carts.search")
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
