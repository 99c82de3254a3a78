"""Bad input, route by route: always a JSON 4xx naming what is wrong, never a 500, and nothing changes.

Each route is one test per backend (a fresh database is the expensive part); each bad input in it is a subtest of its
own, reported separately, and checks for itself that the audit did not move and that the key was not stored."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import pytest
from werkzeug.test import TestResponse

from entrypoints.openapi import document_of
from tests.helpers import customer_json, new_key, random_order_id
from tests.routes.shop_client import RED_RECIPE, ShopClient

HUGE = 10**30


def encode(body: Any) -> str:
    return json.dumps(body)


def with_field(obj: dict[str, Any], name: str, value: Any) -> dict[str, Any]:
    return {**obj, name: value}


def without(obj: dict[str, Any], name: str) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if k != name}


def assert_validation_error(response: TestResponse, field_path: str) -> None:
    assert response.status_code == 422, response.data
    assert response.content_type == "application/json"
    assert response.json["error"] == "validation_error"
    assert field_path in response.json["fields"], response.json["fields"]
    assert all(problems and all(isinstance(p, str) for p in problems) for problems in response.json["fields"].values())


# --- bad bodies, per route -----------------------------------------------------------------------------------------

FREE_BARREL = {"sku": "MINI_RED_BARREL", "ml_per_barrel": 200, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}
MIX = {"potion_type": RED_RECIPE, "quantity": 1}
ALICE = customer_json()
CAPACITY = {"potion_capacity": 0, "ml_capacity": 0}
TIME = {"day": "Edgeday", "hour": 2}

# (what is wrong, the raw body, the field path the 422 must name)
NOT_JSON = [
    ("malformed JSON", '{"quantity": ', "body"),
    ("empty body", "", "body"),
    ("whitespace body", "  \n ", "body"),
    ("bytes that are not UTF-8", b"\xff\xfe{}", "body"),
    ("a 5000-digit number", "1" * 5000, "body"),
    ("JSON nested 100,000 deep", "[" * 100_000 + "]" * 100_000, "body"),
]
NOT_A_LIST = [
    ("an object where a list is required", "{}", "body"),
    ("null where a list is required", "null", "body"),
    ("a string where a list is required", '"[]"', "body"),
]
NOT_AN_OBJECT = [
    ("a list where an object is required", "[]", "body"),
    ("null where an object is required", "null", "body"),
    ("a number where an object is required", "7", "body"),
]


def barrels(**changes: Any) -> str:
    return encode([{**FREE_BARREL, **changes}])


BARREL_CASES = (
    NOT_JSON
    + NOT_A_LIST
    + [
        ("more than 1000 barrels", encode([FREE_BARREL] * 1001), "body"),
        ("missing sku", encode([without(FREE_BARREL, "sku")]), "0.sku"),
        ("sku a number", barrels(sku=7), "0.sku"),
        ("sku empty", barrels(sku=""), "0.sku"),
        ("ml_per_barrel a string", barrels(ml_per_barrel="200"), "0.ml_per_barrel"),
        ("ml_per_barrel a float", barrels(ml_per_barrel=200.5), "0.ml_per_barrel"),
        ("ml_per_barrel a bool", barrels(ml_per_barrel=True), "0.ml_per_barrel"),
        ("ml_per_barrel null", barrels(ml_per_barrel=None), "0.ml_per_barrel"),
        ("ml_per_barrel 0", barrels(ml_per_barrel=0), "0.ml_per_barrel"),
        ("ml_per_barrel huge", barrels(ml_per_barrel=HUGE), "0.ml_per_barrel"),
        ("price negative", barrels(price=-1), "0.price"),
        ("price huge", barrels(price=HUGE), "0.price"),
        ("quantity negative", barrels(quantity=-1), "0.quantity"),
        ("quantity huge", barrels(quantity=HUGE), "0.quantity"),
        ("potion_type of 3", barrels(potion_type=[0.5, 0.5, 0]), "0.potion_type"),
        ("potion_type of 5", barrels(potion_type=[0.5, 0.5, 0, 0, 0]), "0.potion_type"),
        ("potion_type summing to 0.9", barrels(potion_type=[0.5, 0.4, 0, 0]), "0.potion_type"),
        ("potion_type summing to 100", barrels(potion_type=[100, 0, 0, 0]), "0.potion_type.0"),
        ("potion_type all zero", barrels(potion_type=[0, 0, 0, 0]), "0.potion_type"),
        ("potion_type negative part", barrels(potion_type=[-0.5, 1.5, 0, 0]), "0.potion_type.0"),
        ("potion_type a string part", barrels(potion_type=["1", 0, 0, 0]), "0.potion_type.0"),
        ("potion_type a bool part", barrels(potion_type=[True, 0, 0, 0]), "0.potion_type.0"),
        ("potion_type not a list", barrels(potion_type="red"), "0.potion_type"),
        ("potion_type NaN", encode([FREE_BARREL]).replace("[1, 0, 0, 0]", "[NaN, 1, 0, 0]"), "0.potion_type.0"),
        (
            "potion_type Infinity",
            encode([FREE_BARREL]).replace("[1, 0, 0, 0]", "[1, -Infinity, 0, 0]"),
            "0.potion_type.1",
        ),
        ("potion_type 1e400", encode([FREE_BARREL]).replace("[1, 0, 0, 0]", "[1e400, 0, 0, 0]"), "0.potion_type.0"),
        ("an unknown field", barrels(colour="red"), "0.colour"),
        ("a bad second barrel", encode([FREE_BARREL, {**FREE_BARREL, "quantity": "2"}]), "1.quantity"),
    ]
)


def mixes(**changes: Any) -> str:
    return encode([{**MIX, **changes}])


BOTTLING_CASES = (
    NOT_JSON
    + NOT_A_LIST
    + [
        ("potion_type of 3", mixes(potion_type=[50, 50, 0]), "0.potion_type"),
        ("potion_type of 5", mixes(potion_type=[50, 50, 0, 0, 0]), "0.potion_type"),
        ("potion_type summing to 99", mixes(potion_type=[50, 49, 0, 0]), "0.potion_type"),
        ("potion_type summing to 1.0", mixes(potion_type=[1, 0, 0, 0]), "0.potion_type"),
        ("potion_type as fractions", mixes(potion_type=[0.5, 0.5, 0, 0]), "0.potion_type.0"),
        ("potion_type a float part", mixes(potion_type=[100.0, 0, 0, 0]), "0.potion_type.0"),
        ("potion_type a negative part", mixes(potion_type=[110, -10, 0, 0]), "0.potion_type.0"),
        ("potion_type a bool part", mixes(potion_type=[True, 99, 0, 0]), "0.potion_type.0"),
        ("potion_type null", mixes(potion_type=None), "0.potion_type"),
        ("quantity 0", mixes(quantity=0), "0.quantity"),
        ("quantity 10,001", mixes(quantity=10_001), "0.quantity"),
        ("quantity huge", mixes(quantity=HUGE), "0.quantity"),
        ("quantity a string", mixes(quantity="1"), "0.quantity"),
        ("quantity a float", mixes(quantity=1.5), "0.quantity"),
        ("quantity missing", encode([without(MIX, "quantity")]), "0.quantity"),
        ("an unknown field", mixes(sku="RED_POTION"), "0.sku"),
    ]
)


def customers(**changes: Any) -> str:
    return encode([{**ALICE, **changes}])


def customer(**changes: Any) -> str:
    return encode({**ALICE, **changes})


CUSTOMER_FIELD_CASES = [
    ("level 0", {"level": 0}, "level"),
    ("level 21", {"level": 21}, "level"),
    ("level huge", {"level": HUGE}, "level"),
    ("level a string", {"level": "7"}, "level"),
    ("level a float", {"level": 7.5}, "level"),
    ("level a bool", {"level": True}, "level"),
    ("level null", {"level": None}, "level"),
    ("customer_name a number", {"customer_name": 5}, "customer_name"),
    ("customer_name empty", {"customer_name": ""}, "customer_name"),
    ("customer_name 256 characters", {"customer_name": "n" * 256}, "customer_name"),
    ("character_class null", {"character_class": None}, "character_class"),
    ("an unknown field", {"gold": 100}, "gold"),
]
VISIT_CASES = (
    NOT_JSON
    + NOT_A_LIST
    + [(what, customers(**changes), f"0.{path}") for what, changes, path in CUSTOMER_FIELD_CASES]
    + [("customer_id missing", encode([without(ALICE, "customer_id")]), "0.customer_id")]
)
CART_CASES = (
    NOT_JSON
    + NOT_AN_OBJECT
    + [(what, customer(**changes), path) for what, changes, path in CUSTOMER_FIELD_CASES]
    + [("customer_id missing", encode(without(ALICE, "customer_id")), "customer_id")]
)

ITEM_CASES = (
    NOT_JSON
    + NOT_AN_OBJECT
    + [
        ("quantity 0", '{"quantity": 0}', "quantity"),
        ("quantity negative", '{"quantity": -1}', "quantity"),
        ("quantity huge", encode({"quantity": HUGE}), "quantity"),
        ("quantity a string", '{"quantity": "1"}', "quantity"),
        ("quantity a float", '{"quantity": 1.5}', "quantity"),
        ("quantity a bool", '{"quantity": true}', "quantity"),
        ("quantity null", '{"quantity": null}', "quantity"),
        ("quantity NaN", '{"quantity": NaN}', "quantity"),
        ("quantity missing", "{}", "quantity"),
        ("an unknown field", '{"quantity": 1, "sku": "RED_POTION"}', "sku"),
    ]
)
CHECKOUT_CASES = (
    NOT_JSON
    + NOT_AN_OBJECT
    + [
        ("payment missing", "{}", "payment"),
        ("payment a number", '{"payment": 5}', "payment"),
        ("payment null", '{"payment": null}', "payment"),
        ("payment 256 characters", encode({"payment": "p" * 256}), "payment"),
        ("an unknown field", '{"payment": "gold", "tip": 5}', "tip"),
    ]
)
CAPACITY_CASES = (
    NOT_JSON
    + NOT_AN_OBJECT
    + [
        ("potion_capacity 11", encode(with_field(CAPACITY, "potion_capacity", 11)), "potion_capacity"),
        ("ml_capacity negative", encode(with_field(CAPACITY, "ml_capacity", -1)), "ml_capacity"),
        ("ml_capacity huge", encode(with_field(CAPACITY, "ml_capacity", HUGE)), "ml_capacity"),
        ("potion_capacity a string", encode(with_field(CAPACITY, "potion_capacity", "1")), "potion_capacity"),
        ("potion_capacity a float", encode(with_field(CAPACITY, "potion_capacity", 1.0)), "potion_capacity"),
        ("potion_capacity a bool", encode(with_field(CAPACITY, "potion_capacity", False)), "potion_capacity"),
        ("ml_capacity null", encode(with_field(CAPACITY, "ml_capacity", None)), "ml_capacity"),
        ("ml_capacity missing", encode(without(CAPACITY, "ml_capacity")), "ml_capacity"),
        ("an unknown field", encode(with_field(CAPACITY, "gold", 0)), "gold"),
    ]
)
TIME_CASES = (
    NOT_JSON
    + NOT_AN_OBJECT
    + [
        ("hour 24", encode(with_field(TIME, "hour", 24)), "hour"),
        ("hour negative", encode(with_field(TIME, "hour", -1)), "hour"),
        ("hour huge", encode(with_field(TIME, "hour", HUGE)), "hour"),
        ("hour a string", encode(with_field(TIME, "hour", "2")), "hour"),
        ("hour a float", encode(with_field(TIME, "hour", 2.5)), "hour"),
        ("hour null", encode(with_field(TIME, "hour", None)), "hour"),
        ("day empty", encode(with_field(TIME, "day", "")), "day"),
        ("day a number", encode(with_field(TIME, "day", 3)), "day"),
        ("day 21 characters", encode(with_field(TIME, "day", "d" * 21)), "day"),
        ("day missing", encode(without(TIME, "day")), "day"),
        ("an unknown field", encode(with_field(TIME, "minute", 0)), "minute"),
    ]
)
NO_BODY_CASES = [
    ("malformed JSON", "{", "body"),
    ("bytes that are not UTF-8", b"\xff", "body"),
    ("a list", "[]", "body"),
    ("null", "null", "body"),
    ("an unknown field", '{"dry_run": true}', "dry_run"),
]


@dataclass(frozen=True)
class Route:
    """A POST route: `path` may hold {id} (a fresh order or visit id) or {cart} (a fresh open cart); `valid` is a
    body it accepts (again and again) with status `ok`; `keyed` routes get the key retried after every bad body."""

    name: str
    path: str
    valid: Any
    ok: int
    cases: list[tuple[str, str | bytes, str]]
    keyed: str = ""  # "path": the path id is the key; "header": an Idempotency-Key header is sent
    potions_of_ml: int = 0  # red ml the shop should hold (so that an effect would show), in potions

    def ready(self, shop: ShopClient) -> str:
        cart = shop.open_cart() if "{cart}" in self.path else None
        return self.path.format(id=random_order_id(), cart=cart)


ROUTES = [
    Route("POST /barrels/plan", "/barrels/plan", [FREE_BARREL], 200, BARREL_CASES),
    Route("POST /barrels/deliver", "/barrels/deliver/{id}", [FREE_BARREL], 204, BARREL_CASES, "path"),
    Route("POST /bottler/plan", "/bottler/plan", None, 200, NO_BODY_CASES),
    Route("POST /bottler/deliver", "/bottler/deliver/{id}", [MIX], 204, BOTTLING_CASES, "path", potions_of_ml=50),
    Route("POST /carts/visits", "/carts/visits/{id}", [ALICE], 204, VISIT_CASES, "path"),
    Route("POST /carts/", "/carts/", ALICE, 200, CART_CASES, "header"),
    Route("POST /carts/items", "/carts/{cart}/items/RED_POTION", {"quantity": 1}, 204, ITEM_CASES, "header"),
    Route("POST /carts/checkout", "/carts/{cart}/checkout", {"payment": "gold"}, 200, CHECKOUT_CASES, "path"),
    Route("POST /inventory/plan", "/inventory/plan", None, 200, NO_BODY_CASES),
    Route("POST /inventory/deliver", "/inventory/deliver/{id}", CAPACITY, 204, CAPACITY_CASES, "path"),
    Route("POST /admin/reset", "/admin/reset", None, 204, NO_BODY_CASES, "header", potions_of_ml=1),
    Route("POST /info/current_time", "/info/current_time", TIME, 204, TIME_CASES, "header"),
]


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_a_bad_body_is_a_422_naming_the_field_changes_nothing_and_stores_no_key(shop, subtests, route):
    for what, body, field_path in route.cases:
        with subtests.test(what):
            if route.potions_of_ml and not shop.audit()["ml_in_barrels"]:
                shop.give_ml(RED_RECIPE, route.potions_of_ml)  # again after each reset
            path = route.ready(shop)
            key = new_key() if route.keyed == "header" else None
            before = shop.audit()

            assert_validation_error(shop.post(path, data=body, key=key), field_path)
            assert shop.audit() == before
            if route.keyed:
                retry = shop.post(path, json=route.valid, key=key)
                assert retry.status_code == route.ok, retry.data
                assert "Idempotent-Replayed" not in retry.headers


# --- bad query strings ---------------------------------------------------------------------------------------------


def a_bad_value(schema: dict[str, Any]) -> str:
    """A value the document's schema of a query parameter refuses."""
    if schema.get("type") == "integer":
        return "two"
    if schema.get("format") == "date-time":
        return "noon"
    if "enum" in schema:
        return "none-of-these"
    if "pattern" in schema:
        return "?"
    return "x" * (schema["maxLength"] + 1)


def test_a_bad_query_string_is_the_same_422_naming_the_parameter_on_every_route(app, shop, subtests):
    """Every route that reads a query string (as the document lists them) answers a parameter it cannot read, or one
    given twice, with 422 `validation_error` naming it."""
    checked = 0
    for path, item in document_of(app).spec["paths"].items():
        for parameter in item.get("get", {}).get("parameters", []):
            if parameter["in"] != "query":
                continue
            name, bad = parameter["name"], a_bad_value(parameter["schema"])
            with subtests.test(path=path, parameter=name):
                assert_validation_error(shop.get(f"{path}?{urlencode({name: bad})}"), name)
                assert_validation_error(shop.get(f"{path}?{name}=1&{name}=1"), name)
            checked += 1
    assert checked == 35  # search 5, audit 1, accounts 1, history 5; 23 for the six metrics


# --- bad path segments ---------------------------------------------------------------------------------------------

PATH_KEYED = [route for route in ROUTES if route.keyed == "path" and "{id}" in route.path]
BAD_IDS = [
    ("65 characters", "x" * 65),
    ("a dot", "a.b"),
    ("a space", "%20"),
    ("a plus", "a+b"),
    ("a non-ASCII letter", "%C3%A9"),
    ("a NUL", "a%00"),
]


def test_an_illegal_order_or_visit_id_is_a_422_naming_it(shop, subtests):
    shop.give_ml(RED_RECIPE, 1)
    before = shop.audit()
    for route in PATH_KEYED:
        name = "visit_id" if "visits" in route.path else "order_id"
        for what, bad_id in BAD_IDS:
            with subtests.test(f"{route.name}: {what}"):
                assert_validation_error(shop.post(route.path.format(id=bad_id), json=route.valid), name)
                assert shop.audit() == before


def test_the_longest_legal_id_is_a_key_like_any_other(shop, subtests):
    shop.give_ml(RED_RECIPE, 1)
    for route in PATH_KEYED:
        with subtests.test(route.name):
            path = route.path.format(id=random_order_id()[:4] + "A-z_9" * 12)
            first = shop.post(path, json=route.valid)
            again = shop.post(path, json=route.valid)
            assert first.status_code == again.status_code == route.ok
            assert again.headers["Idempotent-Replayed"] == "true"


CART_ROUTES = [route for route in ROUTES if "{cart}" in route.path]
NO_SUCH_CARTS = [
    ("letters", "abc"),
    ("negative", "-1"),
    ("a decimal", "1.5"),
    ("an exponent", "1e3"),
    ("zero", "0"),
    ("the largest int64", str(2**63 - 1)),
    ("beyond int64", str(2**64)),
    ("100 digits", "9" * 100),
    ("a non-ASCII digit", "%D9%A3"),
]


def test_a_cart_id_that_cannot_be_a_cart_is_not_found(shop, subtests):
    shop.open_cart()
    for route in CART_ROUTES:
        for what, cart_id in NO_SUCH_CARTS:
            with subtests.test(f"{route.name}: {what}"):
                response = shop.post(route.path.format(cart=cart_id), json=route.valid)
                assert response.status_code == 404, response.data
                assert response.json["error"] == "cart_not_found"
                assert shop.audit() == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 100}


def test_an_odd_item_sku_is_an_unknown_sku(shop, subtests):
    cart = shop.open_cart()
    for what, sku in [
        ("lower case", "red_potion"),
        ("300 characters", "S" * 300),
        ("an emoji", "%F0%9F%A7%AA"),
        ("a space", "RED%20POTION"),
    ]:
        with subtests.test(what):
            response = shop.post(f"/carts/{cart}/items/{sku}", json={"quantity": 1})
            assert response.status_code == 404, response.data
            assert response.json["error"] == "unknown_sku"


# --- bad Idempotency-Key headers -----------------------------------------------------------------------------------

HEADER_KEYED = [route for route in ROUTES if route.keyed == "header"]
BAD_KEYS = [
    ("256 characters", "k" * 256),
    ("empty", ""),
    ("a control character", "key\x01"),
    ("a tab", "key\tkey"),
    ("DEL", "key\x7f"),
]


def test_a_bad_idempotency_key_is_a_422_naming_the_header(shop, subtests):
    for route in HEADER_KEYED:
        for what, key in BAD_KEYS:
            with subtests.test(f"{route.name}: {what}"):
                if not shop.audit()["ml_in_barrels"]:
                    shop.give_ml(RED_RECIPE, 1)  # so that a reset that slipped through would show
                path = route.ready(shop)
                before = shop.audit()
                assert_validation_error(shop.post(path, json=route.valid, key=key), "Idempotency-Key")
                assert shop.audit() == before


def test_a_255_character_key_is_accepted(shop):
    key = "~" + "k" * 253 + "!"
    first = shop.post("/info/current_time", json=TIME, key=key)
    again = shop.post("/info/current_time", json=TIME, key=key)
    assert first.status_code == again.status_code == 204
    assert again.headers["Idempotent-Replayed"] == "true"


# --- an oversized body ---------------------------------------------------------------------------------------------


def test_a_body_over_a_megabyte_is_a_json_413(shop):
    response = shop.post("/barrels/plan", data="[" + " " * (1024 * 1024) + "]")
    assert response.status_code == 413
    assert response.json["error"] == "request_entity_too_large"


# --- strings every backend can store, list items that are not objects ------------------------------------------


@pytest.mark.parametrize("path", ["/barrels/deliver/{id}", "/carts/visits/{id}"])
def test_a_list_item_that_is_not_an_object_is_named_by_its_index(shop, path):
    response = shop.post(path.format(id=random_order_id()), data="[1]")
    assert_validation_error(response, "0")
    assert set(response.json["fields"]) == {"0"}


# (route, body with {s} where a JSON string goes, the field that must be named)
NOT_TEXT = [
    pytest.param(
        "/barrels/plan",
        '[{"sku": "{s}", "ml_per_barrel": 200, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}]',
        "0.sku",
        id="barrel sku",
    ),
    pytest.param("/carts/", encode(ALICE).replace('"Alice"', '"{s}"'), "customer_name", id="customer name"),
    pytest.param("/info/current_time", '{"day": "{s}", "hour": 2}', "day", id="game day"),
]


@pytest.mark.parametrize("string", ["\\ud800", "\\u0000", "a\\udfffb"], ids=["lone surrogate", "NUL", "low surrogate"])
@pytest.mark.parametrize(("path", "template", "field"), NOT_TEXT)
def test_a_string_no_backend_can_store_is_a_422_naming_the_field(shop, path, template, field, string):
    before = shop.audit()
    response = shop.post(path, data=template.replace("{s}", string))
    assert_validation_error(response, field)
    assert shop.audit() == before


def test_a_checkout_payment_with_a_nul_is_refused(shop):
    cart_id = shop.open_cart()
    response = shop.post(f"/carts/{cart_id}/checkout", data='{"payment": "coins\\u0000"}')
    assert_validation_error(response, "payment")


def test_an_unknown_field_whose_name_is_not_text_is_a_422(shop):
    response = shop.post("/info/current_time", data='{"day": "Edgeday", "hour": 2, "\\ud800": 1}')
    assert_validation_error(response, "\ud800")


@pytest.mark.parametrize("path", ["/barrels/plan", "/barrels/deliver/{id}"])
def test_a_barrel_list_naming_a_sku_twice_is_a_422_naming_the_repeat(shop, path):
    before = shop.audit()
    body = [FREE_BARREL, {**FREE_BARREL, "sku": "OTHER"}, FREE_BARREL]
    response = shop.post(path.format(id=random_order_id()), json=body)
    assert_validation_error(response, "2.sku")
    assert shop.audit() == before


def test_a_negative_zero_fraction_is_the_same_payload_as_zero(shop):
    order = random_order_id()
    first = shop.post(
        f"/barrels/deliver/{order}",
        data='[{"sku": "SMALL_RED_BARREL", "ml_per_barrel": 500, '
        '"potion_type": [1, 0, 0, 0], "price": 100, "quantity": 1}]',
    )
    again = shop.post(
        f"/barrels/deliver/{order}",
        data='[{"sku": "SMALL_RED_BARREL", "ml_per_barrel": 500, '
        '"potion_type": [1.0, -0.0, 0, -0], "price": 100, "quantity": 1}]',
    )
    assert first.status_code == again.status_code == 204
    assert again.headers["Idempotent-Replayed"] == "true"
