"""Every route of API.md over HTTP, on SQLite and PostgreSQL: happy paths with exact bodies, auth, refusals, and
idempotent replays."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from werkzeug.test import TestResponse

from tests.helpers import (
    ALICE,
    API_KEY,
    MINI_BLUE,
    SMALL_RED,
    WHOLESALE,
    barrel_json,
    customer_json,
    new_key,
    random_order_id,
)
from tests.routes.shop_client import RED_RECIPE, ShopClient, assert_error

GREEN_RECIPE, BLUE_RECIPE, DARK_RECIPE = [0, 100, 0, 0], [0, 0, 100, 0], [0, 0, 0, 100]
NEW_SHOP = {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 100}
BOB = {**customer_json(ALICE), "customer_id": "c-2", "customer_name": "Bob", "level": 3}
ALL_POTIONS = [
    {"sku": "RED_POTION", "name": "Red Potion", "quantity": 1, "price": 50, "potion_type": [100, 0, 0, 0]},
    {"sku": "GREEN_POTION", "name": "Green Potion", "quantity": 1, "price": 50, "potion_type": [0, 100, 0, 0]},
    {"sku": "BLUE_POTION", "name": "Blue Potion", "quantity": 1, "price": 60, "potion_type": [0, 0, 100, 0]},
    {"sku": "DARK_POTION", "name": "Dark Potion", "quantity": 1, "price": 75, "potion_type": [0, 0, 0, 100]},
    {"sku": "PURPLE_POTION", "name": "Purple Potion", "quantity": 1, "price": 55, "potion_type": [50, 0, 50, 0]},
    {"sku": "YELLOW_POTION", "name": "Yellow Potion", "quantity": 1, "price": 50, "potion_type": [50, 50, 0, 0]},
    {"sku": "TEAL_POTION", "name": "Teal Potion", "quantity": 1, "price": 55, "potion_type": [0, 50, 50, 0]},
]


def assert_no_content(response: TestResponse) -> None:
    assert response.status_code == 204, response.data
    assert response.data == b""


def sell(shop: ShopClient, sku: str, quantity: int) -> TestResponse:
    cart = shop.open_cart()
    shop.set_item(cart, sku, quantity)
    return shop.post(f"/carts/{cart}/checkout", json={"payment": "gold coins"})


def earn_gold(shop: ShopClient) -> None:
    """Bottle and sell 50 dark potions (75 gold each): the shop ends with 3850 gold and nothing else."""
    shop.stock(DARK_RECIPE, 50)
    assert sell(shop, "DARK_POTION", 50).status_code == 200
    assert shop.audit() == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 3850}


# --- root and catalog ----------------------------------------------------------------------------------------------


def test_the_root_says_the_shop_is_open(shop):
    response = shop.get("/", auth=False)
    assert response.status_code == 200
    assert response.content_type == "application/json"
    assert response.data == b'{"message":"Shop is open for business!"}'


def test_a_new_shop_has_nothing_to_sell_bottle_or_build(shop):
    catalog = shop.get("/catalog/", auth=False)
    assert catalog.status_code == 200 and catalog.json == []
    bottling = shop.post("/bottler/plan")
    assert bottling.status_code == 200 and bottling.json == []
    capacity = shop.post("/inventory/plan")
    assert capacity.status_code == 200 and capacity.json == {"potion_capacity": 0, "ml_capacity": 0}


def test_the_catalog_lists_bottled_potions_with_their_name_price_and_recipe(shop):
    shop.stock(RED_RECIPE, 3)
    response = shop.get("/catalog/", auth=False)
    assert response.status_code == 200
    assert response.json == [
        {"sku": "RED_POTION", "name": "Red Potion", "quantity": 3, "price": 50, "potion_type": [100, 0, 0, 0]}
    ]


def test_the_catalog_offers_at_most_six_potions(shop):
    for recipe, potions in ((RED_RECIPE, 2), (GREEN_RECIPE, 2), (BLUE_RECIPE, 2), (DARK_RECIPE, 1)):
        shop.give_ml(recipe, potions)
    mixes = [{"potion_type": item["potion_type"], "quantity": 1} for item in ALL_POTIONS]
    assert_no_content(shop.post(f"/bottler/deliver/{random_order_id()}", json=mixes))
    assert shop.audit()["number_of_potions"] == 7

    catalog = shop.get("/catalog/", auth=False).json
    assert len(catalog) == 6
    assert all(item in ALL_POTIONS for item in catalog)
    assert len({item["sku"] for item in catalog}) == 6


def test_a_sold_out_potion_leaves_the_catalog(shop):
    shop.stock(RED_RECIPE, 1)
    assert sell(shop, "RED_POTION", 1).status_code == 200
    assert shop.get("/catalog/", auth=False).json == []


# --- auth ----------------------------------------------------------------------------------------------------------

AUTHENTICATED = [
    ("GET", "/inventory/audit", None),
    ("POST", "/barrels/plan", [barrel_json(SMALL_RED)]),
    ("POST", "/barrels/deliver/1", [barrel_json(SMALL_RED)]),
    ("POST", "/bottler/plan", None),
    ("POST", "/bottler/deliver/1", [{"potion_type": RED_RECIPE, "quantity": 1}]),
    ("POST", "/carts/visits/1", [customer_json()]),
    ("POST", "/carts/", customer_json()),
    ("POST", "/carts/1/items/RED_POTION", {"quantity": 1}),
    ("POST", "/carts/1/checkout", {"payment": "gold"}),
    ("POST", "/inventory/plan", None),
    ("POST", "/inventory/deliver/1", {"potion_capacity": 0, "ml_capacity": 0}),
    ("POST", "/admin/reset", None),
    ("POST", "/info/current_time", {"day": "Edgeday", "hour": 0}),
    ("GET", "/carts/search/", None),
]


def test_every_route_but_root_and_catalog_refuses_a_missing_or_wrong_key(shop, subtests):
    for method, path, body in AUTHENTICATED:
        for credential in (False, "wrong-key", API_KEY.upper()):
            with subtests.test(f"{method} {path}", key=credential):
                if method == "GET":
                    response = shop.get(path, auth=credential)
                else:
                    response = shop.post(path, json=body, auth=credential)
                assert_error(response, 401, "unauthorized")
                assert set(response.json) == {"error", "message"}
                assert shop.audit() == NEW_SHOP


def test_root_and_catalog_answer_without_a_key_and_ignore_a_wrong_one(shop):
    for path in ("/", "/catalog/"):
        assert shop.get(path, auth=False).status_code == 200
        assert shop.get(path, auth="wrong-key").status_code == 200


# --- unknown routes and methods ------------------------------------------------------------------------------------


def test_an_unknown_route_is_a_json_404(shop):
    assert_error(shop.get("/no-such-route"), 404, "not_found")
    assert_error(shop.post("/barrels/deliver/1/extra", json=[]), 404, "not_found")


def test_without_the_key_unknown_routes_and_methods_are_401_too(shop):
    """A client without the key learns nothing of what the shop serves."""
    for response in (
        shop.get("/no-such-route", auth=False),
        shop.get("/barrels/plan", auth=False),
        shop.post("/catalog/", json={}, auth=False),
        shop.get("/admin/reset", auth="wrong-key"),
    ):
        assert_error(response, 401, "unauthorized")
        assert "Allow" not in response.headers


def test_a_wrong_method_is_a_json_405_that_says_what_is_allowed(shop):
    assert_error(shop.get("/barrels/plan"), 405, "method_not_allowed")
    response = shop.post("/inventory/audit")
    assert_error(response, 405, "method_not_allowed")
    assert "GET" in response.headers["Allow"]


def test_paths_answer_with_or_without_their_trailing_slash(shop):
    assert shop.get("/catalog", auth=False).status_code == 200
    assert shop.post("/carts", json=customer_json()).status_code == 200


# --- barrels -------------------------------------------------------------------------------------------------------


def test_a_new_shop_plans_barrels_within_its_gold_and_space_from_the_offered_skus(shop):
    offers = [barrel_json(b) for b in WHOLESALE]
    response = shop.post("/barrels/plan", json=offers)
    assert response.status_code == 200
    plan = response.json
    offered = {o["sku"]: o for o in offers}
    assert plan and all(set(line) == {"sku", "quantity"} for line in plan)
    assert all(line["sku"] in offered and 0 < line["quantity"] <= offered[line["sku"]]["quantity"] for line in plan)
    assert sum(offered[line["sku"]]["price"] * line["quantity"] for line in plan) <= 100
    assert sum(offered[line["sku"]]["ml_per_barrel"] * line["quantity"] for line in plan) <= 10_000
    assert shop.audit() == NEW_SHOP


def test_with_one_affordable_offer_the_barrel_plan_buys_exactly_that_and_with_none_nothing(shop):
    response = shop.post("/barrels/plan", json=[{**barrel_json(SMALL_RED), "quantity": 10}])
    assert response.status_code == 200
    assert response.json == [{"sku": "SMALL_RED_BARREL", "quantity": 1}]
    assert shop.post("/barrels/plan", json=[]).json == []


def test_a_barrel_delivery_spends_gold_and_adds_ml(shop):
    assert_no_content(shop.post(f"/barrels/deliver/{random_order_id()}", json=[barrel_json(SMALL_RED)]))
    assert shop.audit() == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}


def test_a_mixed_barrel_adds_exactly_its_ml(shop):
    third = {
        "sku": "THIRDS_BARREL",
        "ml_per_barrel": 1000,
        "potion_type": [1 / 3, 1 / 3, 1 / 3, 0],
        "price": 0,
        "quantity": 2,
    }
    assert_no_content(shop.post(f"/barrels/deliver/{random_order_id()}", json=[third]))
    assert shop.audit() == {"number_of_potions": 0, "ml_in_barrels": 2000, "gold": 100}


def test_barrels_the_shop_cannot_afford_are_refused(shop):
    two = [{**barrel_json(SMALL_RED), "quantity": 2}]
    assert_error(shop.post(f"/barrels/deliver/{random_order_id()}", json=two), 409, "insufficient_gold")
    assert shop.audit() == NEW_SHOP


def test_barrels_beyond_the_ml_capacity_are_refused(shop):
    huge = [{**barrel_json(SMALL_RED), "ml_per_barrel": 10_001, "price": 0}]
    assert_error(shop.post(f"/barrels/deliver/{random_order_id()}", json=huge), 409, "insufficient_capacity")
    assert shop.audit() == NEW_SHOP


def test_a_refused_barrel_delivery_is_not_stored_so_a_corrected_retry_succeeds(shop):
    path = f"/barrels/deliver/{random_order_id()}"
    refused = shop.post(path, json=[{**barrel_json(SMALL_RED), "quantity": 2}])
    assert_error(refused, 409, "insufficient_gold")

    corrected = shop.post(path, json=[barrel_json(SMALL_RED)])
    assert_no_content(corrected)
    assert "Idempotent-Replayed" not in corrected.headers
    assert shop.audit()["gold"] == 0


def test_a_retry_that_spells_the_same_barrels_differently_is_a_replay(shop):
    path = f"/barrels/deliver/{random_order_id()}"
    assert_no_content(shop.post(path, json=[barrel_json(SMALL_RED)]))
    respelled = (
        '[{"quantity": 1, "price": 100, "potion_type": [1, 0, 0.0, 0], "ml_per_barrel": 500,'
        ' "sku": "SMALL_RED_BARREL"}]'
    )
    again = shop.post(path, data=respelled)
    assert_no_content(again)
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shop.audit()["gold"] == 0


# --- bottler -------------------------------------------------------------------------------------------------------


def test_the_bottler_plan_bottles_the_ml_on_hand_and_changes_nothing(shop):
    shop.give_ml(RED_RECIPE, 5)
    before = shop.audit()
    response = shop.post("/bottler/plan", json={})
    assert response.status_code == 200
    assert response.json == [{"potion_type": [100, 0, 0, 0], "quantity": 2}]  # red on trial: nothing is known yet
    assert shop.audit() == before


def test_bottling_turns_ml_into_potions(shop):
    shop.give_ml([50, 50, 0, 0], 4)
    mixes = [{"potion_type": [50, 50, 0, 0], "quantity": 3}]
    assert_no_content(shop.post(f"/bottler/deliver/{random_order_id()}", json=mixes))
    assert shop.audit() == {"number_of_potions": 3, "ml_in_barrels": 100, "gold": 100}
    assert shop.get("/catalog/", auth=False).json == [
        {"sku": "YELLOW_POTION", "name": "Yellow Potion", "quantity": 3, "price": 50, "potion_type": [50, 50, 0, 0]}
    ]


def test_bottling_without_the_ml_is_refused(shop):
    shop.give_ml(GREEN_RECIPE, 1)
    before = shop.audit()
    response = shop.post(f"/bottler/deliver/{random_order_id()}", json=[{"potion_type": RED_RECIPE, "quantity": 1}])
    assert_error(response, 409, "insufficient_ml")
    assert shop.audit() == before


def test_bottling_a_recipe_the_shop_does_not_sell_is_refused(shop):
    shop.give_ml([25, 25, 25, 25], 1)
    before = shop.audit()
    mixes = [{"potion_type": [25, 25, 25, 25], "quantity": 1}]
    assert_error(shop.post(f"/bottler/deliver/{random_order_id()}", json=mixes), 404, "unknown_potion_type")
    assert shop.audit() == before


def test_bottling_beyond_the_potion_capacity_is_refused(shop):
    shop.give_ml(RED_RECIPE, 51)
    before = shop.audit()
    mixes = [{"potion_type": RED_RECIPE, "quantity": 51}]
    assert_error(shop.post(f"/bottler/deliver/{random_order_id()}", json=mixes), 409, "insufficient_capacity")
    assert shop.audit() == before


def test_a_refused_bottling_is_not_stored_so_a_retry_after_the_ml_arrives_succeeds(shop):
    path = f"/bottler/deliver/{random_order_id()}"
    mixes = [{"potion_type": RED_RECIPE, "quantity": 2}]
    assert_error(shop.post(path, json=mixes), 409, "insufficient_ml")
    shop.give_ml(RED_RECIPE, 2)
    retry = shop.post(path, json=mixes)
    assert_no_content(retry)
    assert "Idempotent-Replayed" not in retry.headers
    assert shop.audit()["number_of_potions"] == 2


def test_order_ids_are_scoped_per_route(shop):
    order_id = random_order_id()
    free_red = [{**barrel_json(SMALL_RED), "price": 0}]
    assert_no_content(shop.post(f"/barrels/deliver/{order_id}", json=free_red))
    bottled = shop.post(f"/bottler/deliver/{order_id}", json=[{"potion_type": RED_RECIPE, "quantity": 5}])
    assert_no_content(bottled)
    assert "Idempotent-Replayed" not in bottled.headers
    assert shop.audit() == {"number_of_potions": 5, "ml_in_barrels": 0, "gold": 100}


# --- carts ---------------------------------------------------------------------------------------------------------


def test_a_visit_is_recorded(shop):
    assert_no_content(shop.post(f"/carts/visits/{random_order_id()}", json=[customer_json(), BOB]))
    assert shop.audit() == NEW_SHOP


def test_creating_carts_gives_each_its_own_id(shop):
    first = shop.post("/carts/", json=customer_json())
    second = shop.post("/carts/", json=BOB)
    assert first.status_code == second.status_code == 200
    assert set(first.json) == {"cart_id"} and isinstance(first.json["cart_id"], int)
    assert first.data == b'{"cart_id":%d}' % first.json["cart_id"]
    assert second.json["cart_id"] != first.json["cart_id"]


def test_checkout_sells_the_cart_at_the_catalog_price(shop):
    shop.stock(RED_RECIPE, 3)
    cart = shop.open_cart()
    shop.set_item(cart, "RED_POTION", 2)
    response = shop.post(f"/carts/{cart}/checkout", json={"payment": "gold coins"})
    assert response.status_code == 200
    assert response.data == b'{"total_potions_bought":2,"total_gold_paid":100}'
    assert shop.audit() == {"number_of_potions": 1, "ml_in_barrels": 0, "gold": 200}


def test_setting_an_item_twice_sets_its_quantity_rather_than_adding(shop):
    shop.stock(RED_RECIPE, 10)
    cart = shop.open_cart()
    shop.set_item(cart, "RED_POTION", 5)
    shop.set_item(cart, "RED_POTION", 2)
    response = shop.post(f"/carts/{cart}/checkout", json={"payment": "gold coins"})
    assert response.json == {"total_potions_bought": 2, "total_gold_paid": 100}


def test_checking_out_an_empty_cart_sells_nothing(shop):
    cart = shop.open_cart()
    response = shop.post(f"/carts/{cart}/checkout", json={"payment": ""})
    assert response.status_code == 200
    assert response.json == {"total_potions_bought": 0, "total_gold_paid": 0}
    assert shop.audit() == NEW_SHOP


def test_a_cart_that_does_not_exist_is_not_found(shop):
    assert_error(shop.post("/carts/987654/items/RED_POTION", json={"quantity": 1}), 404, "cart_not_found")
    assert_error(shop.post("/carts/987654/checkout", json={"payment": "gold"}), 404, "cart_not_found")
    assert shop.audit() == NEW_SHOP


def test_an_item_the_shop_does_not_sell_is_not_found(shop):
    cart = shop.open_cart()
    assert_error(shop.post(f"/carts/{cart}/items/NO_SUCH_POTION", json={"quantity": 1}), 404, "unknown_sku")
    assert shop.audit() == NEW_SHOP


def test_checkout_beyond_the_stock_is_refused_and_moves_nothing(shop):
    shop.stock(RED_RECIPE, 1)
    shop.stock(GREEN_RECIPE, 5)
    before = shop.audit()
    cart = shop.open_cart()
    shop.set_item(cart, "GREEN_POTION", 1)
    shop.set_item(cart, "RED_POTION", 2)
    assert_error(shop.post(f"/carts/{cart}/checkout", json={"payment": "gold"}), 409, "insufficient_stock")
    assert shop.audit() == before


def test_a_refused_checkout_is_not_stored_so_a_retry_after_restocking_succeeds(shop):
    shop.stock(RED_RECIPE, 1)
    cart = shop.open_cart()
    shop.set_item(cart, "RED_POTION", 2)
    assert_error(shop.post(f"/carts/{cart}/checkout", json={"payment": "gold"}), 409, "insufficient_stock")
    shop.stock(RED_RECIPE, 1)
    retry = shop.post(f"/carts/{cart}/checkout", json={"payment": "gold"})
    assert retry.status_code == 200
    assert "Idempotent-Replayed" not in retry.headers
    assert retry.json == {"total_potions_bought": 2, "total_gold_paid": 100}


def test_a_checked_out_cart_takes_no_more_items(shop):
    shop.stock(RED_RECIPE, 2)
    cart = shop.open_cart()
    shop.set_item(cart, "RED_POTION", 1)
    assert shop.post(f"/carts/{cart}/checkout", json={"payment": "gold"}).status_code == 200
    before = shop.audit()
    assert_error(shop.post(f"/carts/{cart}/items/RED_POTION", json={"quantity": 2}), 409, "cart_closed")
    assert shop.audit() == before


def test_a_reset_closes_open_carts(shop):
    shop.stock(RED_RECIPE, 1)
    cart = shop.open_cart()
    shop.set_item(cart, "RED_POTION", 1)
    assert_no_content(shop.post("/admin/reset"))
    assert_error(shop.post(f"/carts/{cart}/items/RED_POTION", json={"quantity": 1}), 409, "cart_closed")
    assert_error(shop.post(f"/carts/{cart}/checkout", json={"payment": "gold"}), 409, "cart_closed")
    assert shop.audit() == NEW_SHOP


def test_a_refused_item_is_not_stored_so_a_corrected_retry_with_the_same_key_succeeds(shop):
    cart = shop.open_cart()
    key = new_key()
    assert_error(shop.post(f"/carts/{cart}/items/NO_SUCH_POTION", json={"quantity": 1}, key=key), 404, "unknown_sku")
    retry = shop.post(f"/carts/{cart}/items/RED_POTION", json={"quantity": 1}, key=key)
    assert_no_content(retry)
    assert "Idempotent-Replayed" not in retry.headers


def test_idempotency_keys_are_scoped_per_route(shop):
    key = new_key()
    cart = shop.post("/carts/", json=customer_json(), key=key)
    clock = shop.post("/info/current_time", json={"day": "Edgeday", "hour": 0}, key=key)
    assert cart.status_code == 200
    assert_no_content(clock)
    assert "Idempotent-Replayed" not in clock.headers


# --- inventory -----------------------------------------------------------------------------------------------------


def test_a_new_shop_audits_100_gold_and_nothing_else(shop):
    response = shop.get("/inventory/audit")
    assert response.status_code == 200
    assert response.data == b'{"number_of_potions":0,"ml_in_barrels":0,"gold":100}'


def test_a_rich_shop_with_no_customers_plans_no_capacity_and_changes_nothing(shop):
    earn_gold(shop)
    response = shop.post("/inventory/plan", json={})
    assert response.status_code == 200
    assert response.json == {"potion_capacity": 0, "ml_capacity": 0}  # nothing would pay for it
    assert shop.audit() == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 3850}


def test_a_capacity_delivery_costs_1000_gold_a_unit_and_adds_room(shop):
    earn_gold(shop)
    units = {"potion_capacity": 1, "ml_capacity": 2}
    assert_no_content(shop.post(f"/inventory/deliver/{random_order_id()}", json=units))
    assert shop.audit() == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 850}
    shop.give_ml(RED_RECIPE, 300)  # 30,000 ml: room only with the 2 new ml units
    shop.bottle(RED_RECIPE, 100)  # 100 potions: room only with the new potion unit
    assert shop.audit() == {"number_of_potions": 100, "ml_in_barrels": 20_000, "gold": 850}


def test_capacity_the_shop_cannot_afford_is_refused(shop):
    units = {"potion_capacity": 1, "ml_capacity": 0}
    assert_error(shop.post(f"/inventory/deliver/{random_order_id()}", json=units), 409, "insufficient_gold")
    assert shop.audit() == NEW_SHOP


# --- admin and info ------------------------------------------------------------------------------------------------


def test_a_reset_brings_the_shop_back_to_its_starting_stock(shop):
    shop.stock(RED_RECIPE, 4)
    shop.give_ml(BLUE_RECIPE, 3)
    assert sell(shop, "RED_POTION", 2).status_code == 200
    assert_no_content(shop.post("/admin/reset"))
    assert shop.audit() == NEW_SHOP


def test_a_reset_takes_back_the_extra_capacity(shop):
    earn_gold(shop)
    assert_no_content(
        shop.post(f"/inventory/deliver/{random_order_id()}", json={"potion_capacity": 1, "ml_capacity": 1})
    )
    assert_no_content(shop.post("/admin/reset", json={}))
    big = [{**barrel_json(SMALL_RED), "ml_per_barrel": 10_001, "price": 0}]
    assert_error(shop.post(f"/barrels/deliver/{random_order_id()}", json=big), 409, "insufficient_capacity")


def test_keys_survive_a_reset(shop):
    path = f"/barrels/deliver/{random_order_id()}"
    assert_no_content(shop.post(path, json=[barrel_json(SMALL_RED)]))
    assert_no_content(shop.post("/admin/reset"))
    again = shop.post(path, json=[barrel_json(SMALL_RED)])
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shop.audit() == NEW_SHOP


def test_setting_the_game_time_answers_204(shop):
    assert_no_content(shop.post("/info/current_time", json={"day": "Bloomday", "hour": 22}))
    assert_no_content(shop.post("/info/current_time", json={"day": "Bloomday", "hour": 22}))


# --- idempotent replays of every keyed POST ------------------------------------------------------------------------


@dataclass(frozen=True)
class Call:
    """A keyed POST ready to succeed, and another payload for the same key."""

    path: str
    body: Any
    key: str | None = None
    other: Any = None


def a_barrel_delivery(shop: ShopClient) -> Call:
    return Call(f"/barrels/deliver/{random_order_id()}", [barrel_json(SMALL_RED)], other=[barrel_json(MINI_BLUE)])


def a_bottling(shop: ShopClient) -> Call:
    shop.give_ml(RED_RECIPE, 3)
    return Call(
        f"/bottler/deliver/{random_order_id()}",
        [{"potion_type": RED_RECIPE, "quantity": 2}],
        other=[{"potion_type": RED_RECIPE, "quantity": 3}],
    )


def a_visit(shop: ShopClient) -> Call:
    return Call(f"/carts/visits/{random_order_id()}", [customer_json()], other=[customer_json(), BOB])


def a_new_cart(shop: ShopClient) -> Call:
    return Call("/carts/", customer_json(), key=new_key(), other=BOB)


def an_item(shop: ShopClient) -> Call:
    cart = shop.open_cart()
    return Call(f"/carts/{cart}/items/RED_POTION", {"quantity": 2}, key=new_key(), other={"quantity": 3})


def a_checkout(shop: ShopClient) -> Call:
    shop.stock(RED_RECIPE, 2)
    cart = shop.open_cart()
    shop.set_item(cart, "RED_POTION", 2)
    return Call(f"/carts/{cart}/checkout", {"payment": "gold coins"}, other={"payment": "an IOU"})


def a_capacity_delivery(shop: ShopClient) -> Call:
    earn_gold(shop)
    return Call(
        f"/inventory/deliver/{random_order_id()}",
        {"potion_capacity": 1, "ml_capacity": 1},
        other={"potion_capacity": 2, "ml_capacity": 1},
    )


def a_reset(shop: ShopClient) -> Call:
    shop.stock(RED_RECIPE, 2)
    return Call("/admin/reset", None, key=new_key())


def a_time(shop: ShopClient) -> Call:
    return Call("/info/current_time", {"day": "Edgeday", "hour": 2}, key=new_key(), other={"day": "Edgeday", "hour": 4})


KEYED: list[Callable[[ShopClient], Call]] = [
    a_barrel_delivery,
    a_bottling,
    a_visit,
    a_new_cart,
    an_item,
    a_checkout,
    a_capacity_delivery,
    a_reset,
    a_time,
]


def post(shop: ShopClient, call: Call, body: Any) -> TestResponse:
    return shop.post(call.path, json=body, key=call.key)


@pytest.mark.parametrize("arrange", KEYED, ids=lambda f: f.__name__)
def test_a_retried_post_replays_the_first_response_byte_for_byte_and_does_nothing_again(shop, arrange):
    call = arrange(shop)
    first = post(shop, call, call.body)
    assert first.status_code in (200, 204), first.data
    assert "Idempotent-Replayed" not in first.headers
    shop.give_ml(BLUE_RECIPE, 1)  # something a second run of the request would show in the audit
    before = shop.audit()

    again = post(shop, call, call.body)
    assert again.status_code == first.status_code
    assert again.data == first.data
    assert again.content_type == first.content_type
    assert again.headers["Idempotent-Replayed"] == "true"
    assert shop.audit() == before


@pytest.mark.parametrize("arrange", [f for f in KEYED if f is not a_reset], ids=lambda f: f.__name__)
def test_a_key_reused_with_another_payload_is_refused_and_changes_nothing(shop, arrange):
    call = arrange(shop)
    first = post(shop, call, call.body)
    assert first.status_code in (200, 204), first.data
    before = shop.audit()

    reused = post(shop, call, call.other)
    assert_error(reused, 422, "idempotency_key_reused")
    assert shop.audit() == before
    again = post(shop, call, call.body)
    assert again.data == first.data and again.headers["Idempotent-Replayed"] == "true"


def test_the_idempotency_key_is_optional(shop, subtests):
    for arrange in (a_new_cart, an_item, a_reset, a_time):
        with subtests.test(arrange.__name__):
            call = arrange(shop)
            first = shop.post(call.path, json=call.body)
            again = shop.post(call.path, json=call.body)
            assert first.status_code == again.status_code
            assert first.status_code in (200, 204)
            assert "Idempotent-Replayed" not in again.headers
