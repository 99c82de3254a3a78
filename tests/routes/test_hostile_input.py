"""Hostile input at the route layer, over the fakes: page tokens signed with anything but the shop's own secret, and
the caching headers (`Vary: Origin` where CORS may grant, `Cache-Control: no-store` on what needs the key). What
needs a database (positions in tokens, times, text on both backends) is tests/integration/test_hostile_input.py."""

from __future__ import annotations

import pytest
from itsdangerous import URLSafeSerializer

from adapters.db import make_engine
from cauldrons.app import create_app
from cauldrons.bootstrap import SqlUowFactory
from cauldrons.config import EXCHANGE_ORIGIN, Config
from entrypoints.page_tokens import SALT
from tests.fakes import FakeUnitOfWork
from tests.helpers import API_KEY, customer_json
from tests.routes.shop_client import ShopClient, assert_error
from tests.routes.test_search import preflight, search

A_TOKEN = {"search": ["", "", "timestamp", "desc"], "backward": False, "id": 1, "value": "2026-01-01T00:00:00"}


def test_a_token_signed_with_the_api_key_is_refused(shop):
    """Tokens travel in URLs and logs: one signed with the API key would let its reader test guesses of the key."""
    forged = URLSafeSerializer(API_KEY, salt=SALT).dumps(A_TOKEN)
    response = search(shop, search_page=forged)
    assert_error(response, 422, "validation_error")
    assert list(response.json["fields"]) == ["search_page"]


def test_apps_over_units_of_work_of_their_own_each_sign_with_a_random_secret():
    one, two = (create_app(Config("sqlite://", API_KEY), uow_factory=FakeUnitOfWork) for _ in range(2))
    secrets = {app.extensions["cauldrons.page_tokens"].now()._serializer.secret_keys[-1] for app in (one, two)}
    assert len(secrets) == 2 and API_KEY.encode() not in secrets


def test_secret_key_signs_the_tokens_when_set():
    app = create_app(Config("sqlite://", API_KEY, secret_key="its own"), uow_factory=FakeUnitOfWork)
    assert app.extensions["cauldrons.page_tokens"].now()._serializer.secret_keys == [b"its own"]


# --- caches ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        {"Origin": EXCHANGE_ORIGIN, "access_token": API_KEY},
        {"Origin": "https://elsewhere.example", "access_token": API_KEY},
        {"access_token": API_KEY},
        {"Origin": EXCHANGE_ORIGIN},
        {},
    ],
    ids=["granted", "another origin", "no origin", "granted, without the key", "nothing"],
)
def test_every_search_answer_varies_on_origin_and_is_never_stored(shop, headers):
    response = shop.client.get("/carts/search/?sort_col=price", headers=headers)
    assert response.status_code in (401, 422)
    assert "Origin" in response.vary and response.headers["Cache-Control"] == "no-store"
    if headers.get("Origin") == EXCHANGE_ORIGIN:
        assert response.headers["Access-Control-Allow-Origin"] == EXCHANGE_ORIGIN


def test_the_preflight_varies_on_origin(shop):
    assert "Origin" in preflight(shop, EXCHANGE_ORIGIN).vary
    assert "Origin" in preflight(shop, "https://elsewhere.example").vary


def test_no_other_route_varies_on_origin(shop):
    response = shop.client.get("/inventory/audit", headers={"Origin": EXCHANGE_ORIGIN, "access_token": API_KEY})
    assert response.status_code == 200 and "Origin" not in response.vary


def test_replies_that_need_the_key_are_never_stored_and_replays_are_byte_identical(shop):
    first = shop.post("/carts/", json=customer_json(), key="once")
    replay = shop.post("/carts/", json=customer_json(), key="once")
    assert first.status_code == replay.status_code == 200
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.data == first.data
    for response in (
        first,
        replay,
        shop.get("/inventory/audit"),
        shop.post("/info/current_time", json={"day": "Edgeday", "hour": 1}),
        shop.post("/carts/", json={}),  # 422
        shop.get("/inventory/audit", auth=False),  # 401
        shop.get("/no/such/route"),  # 404
        shop.client.delete("/catalog/", headers={"access_token": API_KEY}),  # 405
    ):
        assert response.headers["Cache-Control"] == "no-store", response.status_code


@pytest.mark.parametrize("path", ["/", "/catalog/", "/openapi.json"])
def test_public_replies_are_left_cacheable(shop, path):
    response = shop.get(path, auth=False)
    assert response.status_code == 200 and "no-store" not in response.headers.get("Cache-Control", "")


def test_a_search_while_the_database_is_away_is_a_503_not_a_500():
    """The secret is read from the database at each search: a database that cannot be reached is a 503, as it is
    for everything else."""
    engine = make_engine("postgresql+psycopg2://postgres@127.0.0.1:1/nowhere")
    app = create_app(Config("sqlite://", API_KEY), uow_factory=SqlUowFactory(engine))
    response = ShopClient(app.test_client()).get("/carts/search/")
    engine.dispose()
    assert_error(response, 503, "database_unavailable")
