"""Hostile input on SQLite and PostgreSQL, over HTTP on the real app: every answer is a 4xx or a valid reply, never a
500. Times at the ends of what a datetime holds, page tokens signed right but holding positions no sale line could
have, text no backend can store in every string a client sends; the secret that signs page tokens (its own, kept in
the database, never the API key's) and its rotation; the caching headers on what needs the key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace
from typing import Any
from urllib.parse import urlencode

import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeSerializer
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import DBAPIError
from werkzeug.test import TestResponse

from adapters import orm
from adapters.db import make_engine
from adapters.secrets import PAGE_TOKENS, SqlSecrets
from cauldrons.app import create_app
from cauldrons.bootstrap import SqlUowFactory, Wiring
from cauldrons.cli import main
from cauldrons.config import EXCHANGE_ORIGIN, Config
from domain.metrics import Metric
from entrypoints.openapi import document_of
from entrypoints.page_tokens import SALT
from tests.helpers import ALICE, API_KEY, customer_json, random_order_id
from tests.metrics_game import EXPECTED, play
from tests.routes.shop_client import RED_RECIPE, ShopClient, assert_error

EARLIEST = "0001-01-01T00:00:00"  # the first moment a datetime holds
LATEST = "9999-12-31T23:59:59.999999"  # the last
LAST_HALF_HOUR = "9999-12-31T23:30:00"  # within the last hour (and day): no whole one follows
EXTREMES = [EARLIEST, "0001-01-01T00:00:00.000001", "0001-01-01T23:59:59", LAST_HALF_HOUR, "9999-12-31", LATEST]


@pytest.fixture
def shop(client) -> ShopClient:  # type: ignore[no-untyped-def]
    return ShopClient(client)


@pytest.fixture
def played(wiring: Wiring) -> Wiring:
    play(wiring.uow_factory)
    return wiring


def get(shop: ShopClient, path: str, **params: str) -> TestResponse:
    return shop.client.get(path, query_string=params, headers={"access_token": API_KEY})


def assert_refused(response: TestResponse, field: str) -> None:
    assert_error(response, 422, "validation_error")
    assert list(response.json["fields"]) == [field], response.json


# --- 1. times at the ends of what a datetime holds -----------------------------------------------------------------

TIMED = [f"/metrics/{m}" for m in Metric] + ["/ledger/transactions"]


@pytest.mark.parametrize("path", TIMED)
def test_since_and_until_at_the_ends_of_time_are_answered(shop, played, path):
    for moment in EXTREMES:
        for params in ({"since": moment}, {"until": moment}, {"since": moment, "until": moment}):
            response = get(shop, path, **params)
            assert response.status_code == 200, (params, response.data[:300])


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_the_widest_range_is_the_whole_history_and_the_last_half_hour_is_empty(shop, played, metric):
    assert get(shop, f"/metrics/{metric}", since=EARLIEST, until=LATEST).json["rows"] == EXPECTED[metric]
    assert get(shop, f"/metrics/{metric}", since=LAST_HALF_HOUR).json["rows"] == []
    assert get(shop, f"/metrics/{metric}", until=EARLIEST).json["rows"] == []


@pytest.mark.parametrize("path", ["/ledger/accounts", "/inventory/audit"])
def test_a_moment_at_the_ends_of_time_is_answered(shop, played, path):
    for moment in EXTREMES:
        response = get(shop, path, at=moment)
        assert response.status_code == 200, (moment, response.data[:300])
    assert get(shop, "/inventory/audit", at=EARLIEST).json == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 0}
    assert get(shop, "/inventory/audit", at=LATEST).json == get(shop, "/inventory/audit").json


# --- 2. page tokens: signed with the shop's own secret, positions within the columns ------------------------------


ASCII_JSON = SimpleNamespace(dumps=json.dumps, loads=json.loads)  # escapes what UTF-8 cannot hold: lone surrogates


def sign(wiring: Wiring, payload: dict[str, Any]) -> str:
    """A token signed with the secret kept in the database, holding whatever `payload` says."""
    secret = SqlSecrets(wiring.engine).current(PAGE_TOKENS)
    return str(URLSafeSerializer(secret, salt=SALT, serializer=ASCII_JSON).dumps(payload))


def token(wiring: Wiring, col: str, value: Any, line_id: Any = 1, order: str = "desc", backward: bool = False) -> str:
    return sign(wiring, {"search": ["", "", col, order], "backward": backward, "id": line_id, "value": value})


def search(shop: ShopClient, **params: Any) -> TestResponse:
    return shop.client.get("/carts/search/", query_string=params, headers={"access_token": API_KEY})


def sell(shop: ShopClient, name: str = "Alice") -> None:
    shop.stock(RED_RECIPE, 1)
    cart = shop.open_cart({**customer_json(ALICE), "customer_name": name})
    shop.set_item(cart, "RED_POTION", 1)
    assert shop.post(f"/carts/{cart}/checkout", json={"payment": "gold"}).status_code == 200


HOSTILE_POSITIONS = [
    pytest.param("line_item_total", 7, 2**63, id="an id past BIGINT"),
    pytest.param("line_item_total", 7, 2**63 - 1, id="the largest BIGINT id, which a keyset steps past"),
    pytest.param("line_item_total", 7, -(2**63), id="the smallest BIGINT id"),
    pytest.param("line_item_total", 7, -(2**64), id="an id below BIGINT"),
    pytest.param("line_item_total", 10**30, 1, id="a total of 10^30"),
    pytest.param("line_item_total", 2**63, 1, id="a total past BIGINT"),
    pytest.param("line_item_total", -(2**63) - 1, 1, id="a total below BIGINT"),
    pytest.param("customer_name", "Al\x00ice", 1, id="a name with a NUL"),
    pytest.param("customer_name", "\ud800", 1, id="a name that is a lone surrogate"),
    pytest.param("item_sku", "1 red\udfff", 1, id="a sku with a lone low surrogate"),
    pytest.param("item_sku", "\x00", 1, id="a sku that is a NUL"),
    pytest.param("timestamp", "2026-01-01T00:00:00+05:00", 1, id="a time with a zone"),
    pytest.param("timestamp", "10000-01-01T00:00:00", 1, id="a time past year 9999"),
]


@pytest.mark.parametrize(("col", "value", "line_id"), HOSTILE_POSITIONS)
def test_a_token_signed_right_holding_a_position_no_line_could_have_is_a_422(wiring, shop, col, value, line_id):
    sell(shop)
    for order in ("asc", "desc"):
        for backward in (False, True):
            page = token(wiring, col, value, line_id, order, backward)
            assert_refused(search(shop, sort_col=col, sort_order=order, search_page=page), "search_page")


@pytest.mark.parametrize(
    ("col", "value", "line_id"),
    [
        ("timestamp", EARLIEST, 1),
        ("timestamp", LATEST, 1),
        ("timestamp", "9999-12-31T23:59:59.999999", 2**63 - 2),
        ("line_item_total", 2**63 - 1, -(2**63) + 1),
        ("line_item_total", -(2**63), 0),
        ("customer_name", "\U0010ffff" * 255, 1),
        ("item_sku", "", 2**63 - 2),
    ],
)
def test_a_token_at_the_ends_of_what_the_columns_hold_is_a_page(wiring, shop, col, value, line_id):
    sell(shop)
    for order in ("asc", "desc"):
        for backward in (False, True):
            page = token(wiring, col, value, line_id, order, backward)
            response = search(shop, sort_col=col, sort_order=order, search_page=page)
            assert response.status_code == 200, response.data


def test_bootstrap_keeps_one_random_secret_and_it_is_not_the_api_key(wiring):
    with wiring.engine.connect() as conn:
        rows = conn.execute(select(orm.secrets.c.purpose, orm.secrets.c.generation, orm.secrets.c.value)).all()
    assert [(purpose, generation) for purpose, generation, _ in rows] == [(PAGE_TOKENS, 1)]
    assert len(rows[0].value) >= 40 and API_KEY not in rows[0].value


def test_processes_starting_at_once_end_with_one_secret(database_url):
    engines = [make_engine(database_url) for _ in range(6)]
    start, found = threading.Barrier(len(engines)), []

    def ensure(engine: Any) -> None:
        start.wait()
        found.append(SqlSecrets(engine).ensure(PAGE_TOKENS))

    threads = [threading.Thread(target=ensure, args=(engine,)) for engine in engines]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engines[0].connect() as conn:
        count = conn.execute(select(func.count()).select_from(orm.secrets)).scalar_one()
    for engine in engines:
        engine.dispose()
    assert len(found) == len(engines) and len(set(found)) == 1 and count == 1


def test_a_token_signed_with_the_api_key_is_refused(shop):
    """The API key no longer signs anything: a token made with it (as anyone who knew or guessed it could) is not
    one this shop handed out."""
    for _ in range(6):
        sell(shop)
    handed_out = search(shop).json["next"]
    payload = URLSafeSerializer("x").loads_unsafe(handed_out)[1]
    forged = URLSafeSerializer(API_KEY, salt=SALT).dumps(payload)
    assert search(shop, search_page=handed_out).status_code == 200
    assert_refused(search(shop, search_page=forged), "search_page")


@contextmanager
def serving(config: Config) -> Iterator[ShopClient]:
    """The app as `cauldrons serve` makes it (its own wiring over `config`'s database), speaking with its key."""
    app = create_app(config)
    try:
        yield ShopClient(app.test_client(), config.api_key)
    finally:
        factory = app.extensions["cauldrons.uow_factory"]
        assert isinstance(factory, SqlUowFactory)
        factory.engine.dispose()


def test_rotating_the_api_key_keeps_tokens_and_rotating_the_secret_retires_them(database_url, wiring):
    with serving(Config(database_url, "key-one")) as before, serving(Config(database_url, "key-two")) as after:
        for _ in range(6):
            sell(before)
        handed_out = before.get("/carts/search/").json["next"]
        assert handed_out and before.get(f"/carts/search/?search_page={handed_out}").status_code == 200
        assert after.get(f"/carts/search/?search_page={handed_out}").status_code == 200

        result = CliRunner().invoke(main, ["secret", "rotate"], env={"DATABASE_URL": database_url, "SECRET_KEY": ""})
        assert result.exit_code == 0, result.output
        assert "generation 2" in result.output
        for running in (before, after):  # running servers read the secret anew: no restart needed
            assert_refused(running.get(f"/carts/search/?search_page={handed_out}"), "search_page")
            fresh = running.get("/carts/search/").json["next"]
            assert running.get(f"/carts/search/?search_page={fresh}").status_code == 200
    assert SqlSecrets(wiring.engine).generation(PAGE_TOKENS) == 2


def test_secret_key_signs_in_place_of_the_kept_secret(database_url, wiring):
    with (
        serving(Config(database_url, API_KEY)) as kept,
        serving(Config(database_url, API_KEY, secret_key="a secret of its own")) as own,
    ):
        for _ in range(6):
            sell(kept)
        from_kept, from_own = search(kept).json["next"], search(own).json["next"]
        assert search(own, search_page=from_own).status_code == 200
        assert_refused(search(own, search_page=from_kept), "search_page")
        assert_refused(search(kept, search_page=from_own), "search_page")
        SqlSecrets(wiring.engine).rotate(PAGE_TOKENS)
        assert search(own, search_page=from_own).status_code == 200  # SECRET_KEY, not the kept secret, signs here
        assert_refused(search(kept, search_page=from_kept), "search_page")


def test_the_secrets_are_append_only(wiring):
    with pytest.raises(DBAPIError, match="append-only"), wiring.engine.begin() as conn:
        conn.execute(update(orm.secrets).values(value="known"))
    with pytest.raises(DBAPIError, match="append-only"), wiring.engine.begin() as conn:
        conn.execute(text("DELETE FROM secrets"))


# --- 3. text no backend can store, in every string a client sends ---------------------------------------------------

NUL, LONE = "\u0000", "\ud800"


def customer_with(field: str, value: str) -> dict[str, object]:
    return {**customer_json(ALICE), field: value}


@pytest.mark.parametrize("bad", [NUL, LONE, f"a{NUL}b", f"x{LONE}"], ids=["NUL", "lone", "inner NUL", "trailing lone"])
def test_a_json_string_no_backend_can_store_is_a_422_naming_the_field(shop, bad):
    cart = shop.open_cart()
    order = random_order_id()
    free = {"sku": "S", "ml_per_barrel": 200, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}
    cases: list[tuple[str, Any, str]] = [
        *[
            ("/carts/", customer_with(field, bad), field)
            for field in ("customer_id", "customer_name", "character_class", "character_species")
        ],
        *[
            (f"/carts/visits/{order}", [customer_with(field, bad)], f"0.{field}")
            for field in ("customer_id", "customer_name", "character_class", "character_species")
        ],
        (f"/carts/{cart}/checkout", {"payment": bad}, "payment"),
        ("/info/current_time", {"day": bad, "hour": 1}, "day"),
        ("/barrels/plan", [{**free, "sku": bad}], "0.sku"),
        (f"/barrels/deliver/{order}", [{**free, "sku": bad}], "0.sku"),
        ("/ledger/corrections", {"account": bad, "change": 1, "reason": "r"}, "account"),
        ("/ledger/corrections", {"account": "shop/gold", "change": 1, "reason": bad}, "reason"),
        ("/carts/", {**customer_json(ALICE), bad: 1}, bad),
    ]
    before = shop.audit()
    for path, body, field in cases:
        assert_refused(shop.post(path, json=body, key="k-1"), field)
    assert shop.audit() == before


@pytest.mark.parametrize(
    ("path", "field"),
    [
        *[(f"/metrics/{m}?day=a%00", "day") for m in Metric if m is not Metric.BALANCES],
        ("/carts/search/?customer_name=%00", "customer_name"),
        ("/carts/search/?potion_sku=red%00", "potion_sku"),
        ("/carts/search/?search_page=%00", "search_page"),
        ("/carts/search/?sort_col=%00", "sort_col"),
        ("/ledger/transactions?account=shop/gold%00", "account"),
        ("/ledger/transactions?cursor=1%00", "cursor"),
        ("/ledger/transactions?since=2026-01-01%00", "since"),
        ("/ledger/accounts?at=%00", "at"),
        ("/inventory/audit?at=2026-01-01T00:00:00%00", "at"),
        ("/metrics/sales_by_hour?%00=1", "\x00"),
    ],
)
def test_a_query_parameter_with_a_nul_is_a_422_naming_it(shop, path, field):
    assert_refused(shop.get(path), field)


def with_a_nul(schema: dict[str, Any]) -> str:
    """A value the document's schema of a query parameter takes, with a NUL after it."""
    if schema.get("type") == "integer":
        valid = str(schema.get("minimum", 1))
    elif schema.get("format") == "date-time":
        valid = "2026-01-01T00:00:00"
    elif "enum" in schema:
        valid = schema["enum"][0]
    elif "pattern" in schema:
        valid = "shop/gold" if "/" in schema["pattern"] else "1"
    else:
        valid = "a"
    return valid + "\x00"


def test_every_query_parameter_of_every_route_with_a_nul_is_a_422_naming_it(app, shop):
    checked = 0
    for path, item in document_of(app).spec["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["in"] == "query":
                name = parameter["name"]
                assert_refused(shop.get(f"{path}?{urlencode({name: with_a_nul(parameter['schema'])})}"), name)
                checked += 1
    assert checked >= 35  # search 5, audit 1, accounts 1, history 5, the six metrics 23


def test_a_path_parameter_with_a_nul_is_a_422_naming_it(shop):
    shop.stock(RED_RECIPE, 1)
    cart = shop.open_cart()
    before = shop.audit()
    assert_refused(shop.post(f"/carts/{cart}/items/RED_POTION%00", json={"quantity": 1}), "item_sku")
    assert_refused(shop.post(f"/carts/{cart}/items/%00", json={"quantity": 1}, key="k-2"), "item_sku")
    assert_refused(shop.post("/carts/1%00/items/RED_POTION", json={"quantity": 1}), "cart_id")
    assert_refused(shop.post("/carts/%00/checkout", json={"payment": "gold"}), "cart_id")
    assert_refused(shop.post("/carts/visits/v%00", json=[customer_json()]), "visit_id")
    assert_refused(shop.post("/barrels/deliver/o%00", json=[]), "order_id")
    assert_refused(shop.post("/bottler/deliver/o%00", json=[]), "order_id")
    assert_refused(shop.post("/inventory/deliver/o%00", json={"potion_capacity": 0, "ml_capacity": 0}), "order_id")
    assert shop.audit() == before


def test_a_header_with_a_nul_is_refused_never_a_500(shop):
    assert_refused(shop.post("/carts/", json=customer_json(), key="k\x00"), "Idempotency-Key")
    assert_error(shop.get("/inventory/audit", auth=f"{API_KEY}\x00"), 401, "unauthorized")


# --- 4. caches: Vary: Origin where CORS may grant, no-store on what needs the key -----------------------------------


def test_every_search_answer_varies_on_origin_granted_or_not(shop):
    sell(shop)
    for headers in (
        {"Origin": EXCHANGE_ORIGIN, "access_token": API_KEY},
        {"Origin": "https://elsewhere.example", "access_token": API_KEY},
        {"access_token": API_KEY},
        {"Origin": EXCHANGE_ORIGIN},  # its 401
    ):
        response = shop.client.get("/carts/search/", headers=headers)
        assert "origin" in response.headers.get("Vary", "").lower(), headers
        assert response.headers["Cache-Control"] == "no-store"


def test_what_needs_the_key_is_never_stored_and_a_replay_is_byte_identical(shop):
    first = shop.post("/carts/", json=customer_json(), key="same")
    replay = shop.post("/carts/", json=customer_json(), key="same")
    assert replay.headers["Idempotent-Replayed"] == "true" and replay.data == first.data
    for response in (first, replay, shop.get("/inventory/audit"), shop.get("/ledger/accounts")):
        assert response.headers["Cache-Control"] == "no-store"
