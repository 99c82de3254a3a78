"""Races over real HTTP, through the dev server's request handler, on each backend."""

from cauldrons.exchange.transport import HttpTransport
from cauldrons.serving import serve_in_thread
from tests.concurrency import race
from tests.helpers import API_KEY, SMALL_RED, barrel_json, customer_json


def test_the_access_token_header_survives_a_real_server(app):
    with serve_in_thread(app) as url:
        assert HttpTransport(url, API_KEY).get("/inventory/audit").status == 200
        assert HttpTransport(url, "wrong").get("/inventory/audit").status == 401


def test_sixteen_racing_twins_of_a_delivery_get_one_effect_and_the_same_answer(app):
    with serve_in_thread(app) as url:
        shop = HttpTransport(url, API_KEY)  # a connection per thread
        answers = race([lambda: shop.post("/barrels/deliver/race-1", [barrel_json(SMALL_RED)])] * 16)
        audit = shop.get("/inventory/audit").json()
    assert {(a.status, a.body) for a in answers} == {(204, b"")}
    assert sum(a.replayed for a in answers) == 15
    assert audit == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}


def test_six_carts_racing_for_three_potions_sell_exactly_three(app):
    with serve_in_thread(app) as url:
        shop = HttpTransport(url, API_KEY)
        assert shop.post("/barrels/deliver/stock", [barrel_json(SMALL_RED)]).status == 204
        assert shop.post("/bottler/deliver/stock", [{"potion_type": [100, 0, 0, 0], "quantity": 3}]).status == 204
        carts = [shop.post("/carts/", customer_json()).json()["cart_id"] for _ in range(6)]
        for cart_id in carts:
            assert shop.post(f"/carts/{cart_id}/items/RED_POTION", {"quantity": 1}).status == 204
        answers = race([lambda c=c: shop.post(f"/carts/{c}/checkout", {"payment": "coins"}) for c in carts])
        audit = shop.get("/inventory/audit").json()
    assert sorted(a.status for a in answers) == [200, 200, 200, 409, 409, 409]
    assert {a.json()["error"] for a in answers if a.status == 409} == {"insufficient_stock"}
    assert audit == {"number_of_potions": 0, "ml_in_barrels": 200, "gold": 150}
