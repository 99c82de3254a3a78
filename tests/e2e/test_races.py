"""Races over real HTTP, through the dev server's request handler, on each backend."""

from tests.concurrency import race
from tests.e2e.live import call, serving
from tests.helpers import API_KEY, SMALL_RED, barrel_json, customer_json


def test_the_access_token_header_survives_a_real_server(app):
    with serving(app) as url:
        assert call(f"{url}/inventory/audit", api_key=API_KEY).status == 200
        assert call(f"{url}/inventory/audit", api_key="wrong").status == 401


def test_sixteen_racing_twins_of_a_delivery_get_one_effect_and_the_same_answer(app):
    with serving(app) as url:
        answers = race([lambda: call(f"{url}/barrels/deliver/race-1", "POST", [barrel_json(SMALL_RED)], API_KEY)] * 16)
        audit = call(f"{url}/inventory/audit", api_key=API_KEY).json()
    assert {(a.status, a.body) for a in answers} == {(204, b"")}
    assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 15
    assert audit == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}


def test_six_carts_racing_for_three_potions_sell_exactly_three(app):
    with serving(app) as url:
        post = lambda path, body=None: call(f"{url}{path}", "POST", body, API_KEY)  # noqa: E731
        assert post("/barrels/deliver/stock", [barrel_json(SMALL_RED)]).status == 204
        assert post("/bottler/deliver/stock", [{"potion_type": [100, 0, 0, 0], "quantity": 3}]).status == 204
        carts = [post("/carts/", customer_json()).json()["cart_id"] for _ in range(6)]
        for cart_id in carts:
            assert post(f"/carts/{cart_id}/items/RED_POTION", {"quantity": 1}).status == 204
        answers = race([lambda c=c: post(f"/carts/{c}/checkout", {"payment": "coins"}) for c in carts])
        audit = call(f"{url}/inventory/audit", api_key=API_KEY).json()
    assert sorted(a.status for a in answers) == [200, 200, 200, 409, 409, 409]
    assert {a.json()["error"] for a in answers if a.status == 409} == {"insufficient_stock"}
    assert audit == {"number_of_potions": 0, "ml_in_barrels": 200, "gold": 150}
