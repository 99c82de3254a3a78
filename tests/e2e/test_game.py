"""A simulator-style game over HTTP with every POST sent twice: the retry must get the same status and bytes,
and after every tick the shop's audit must equal the simulator's own tally of what was delivered and sold."""

import random

from domain import clock
from tests.helpers import API_KEY, WHOLESALE, barrel_json, random_order_id

DAYS = clock.DAYS[:2]
CLASSES = ["Wizard", "Warrior", "Rogue", "Cleric"]


class Simulator:
    def __init__(self, client) -> None:  # type: ignore[no-untyped-def]
        self.client = client
        self.tally = {"gold": 100, "ml_in_barrels": 0, "number_of_potions": 0}
        self.rng = random.Random(7)
        self.orders = 0
        self.sold = 0

    def post(self, path: str, body=None):  # type: ignore[no-untyped-def]
        """POST twice with one Idempotency-Key (routes keyed by their path ignore it), as a retrying client does."""
        headers = {"access_token": API_KEY, "Idempotency-Key": random_order_id()}
        first = self.client.post(path, json=body, headers=headers)
        again = self.client.post(path, json=body, headers=headers)
        assert first.status_code < 400, (path, first.status_code, first.data)
        assert (again.status_code, again.data) == (first.status_code, first.data), path
        return first

    def order_id(self) -> str:
        self.orders += 1
        return f"order-{self.orders}"

    def audit_matches(self) -> None:
        audit = self.client.get("/inventory/audit", headers={"access_token": API_KEY}).get_json()
        assert audit == self.tally

    def buy_barrels(self) -> None:
        plan = self.post("/barrels/plan", [barrel_json(b) for b in WHOLESALE]).get_json()
        offers = {b.sku: b for b in WHOLESALE}
        order = [{**barrel_json(offers[p["sku"]]), "quantity": p["quantity"]} for p in plan]
        self.post(f"/barrels/deliver/{self.order_id()}", order)
        self.tally["gold"] -= sum(o["price"] * o["quantity"] for o in order)
        self.tally["ml_in_barrels"] += sum(o["ml_per_barrel"] * o["quantity"] for o in order)

    def bottle(self) -> None:
        plan = self.post("/bottler/plan").get_json()
        self.post(f"/bottler/deliver/{self.order_id()}", plan)
        made = sum(p["quantity"] for p in plan)
        self.tally["ml_in_barrels"] -= 100 * made
        self.tally["number_of_potions"] += made

    def buy_capacity(self) -> None:
        plan = self.post("/inventory/plan").get_json()
        self.post(f"/inventory/deliver/{self.order_id()}", plan)
        self.tally["gold"] -= 1000 * (plan["potion_capacity"] + plan["ml_capacity"])

    def customers_shop(self, tick: int) -> None:
        customers = [
            {
                "customer_id": f"c{tick}-{i}",
                "customer_name": f"Customer {i}",
                "character_class": self.rng.choice(CLASSES),
                "character_species": "Elf",
                "level": self.rng.randint(1, 20),
            }
            for i in range(self.rng.randint(1, 5))
        ]
        self.post(f"/carts/visits/visit-{tick}", customers)
        catalog = self.client.get("/catalog/").get_json()
        for customer in customers:
            if not catalog or self.rng.random() < 0.3:
                continue
            item = self.rng.choice(catalog)
            quantity = self.rng.randint(1, 3)
            cart_id = self.post("/carts/", customer).get_json()["cart_id"]
            self.post(f"/carts/{cart_id}/items/{item['sku']}", {"quantity": quantity})
            response, retry = (
                self.client.post(
                    f"/carts/{cart_id}/checkout", json={"payment": "gold"}, headers={"access_token": API_KEY}
                )
                for _ in range(2)
            )
            assert (retry.status_code, retry.data) == (response.status_code, response.data)
            if response.status_code == 409:  # an earlier customer took the last of it
                assert response.get_json()["error"] == "insufficient_stock"
                continue
            bought = response.get_json()
            assert bought == {"total_potions_bought": quantity, "total_gold_paid": quantity * item["price"]}
            self.tally["gold"] += bought["total_gold_paid"]
            self.sold += bought["total_potions_bought"]
            self.tally["number_of_potions"] -= bought["total_potions_bought"]


def test_a_whole_game_with_every_post_retried_keeps_the_books_exact(client):
    sim = Simulator(client)
    sim.post("/admin/reset")
    sim.audit_matches()
    tick = 0
    for day in DAYS:
        for hour in range(0, 24, 2):
            tick += 1
            sim.post("/info/current_time", {"day": day, "hour": hour})
            sim.customers_shop(tick)
            if tick % 2:
                sim.buy_barrels()
                sim.bottle()
            if hour == 0:
                sim.buy_capacity()
            sim.audit_matches()
    assert sim.sold > 20, "customers should have bought potions"
