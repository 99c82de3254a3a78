"""Values and helpers the tests share (fixtures live in conftest.py)."""

from __future__ import annotations

import uuid

from domain.carts import Customer
from domain.potions import BLENDS, DEFAULT_POTIONS, Barrel

API_KEY = "test-key"

RED, GREEN, BLUE, DARK = (1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0)


def random_order_id() -> str:
    return uuid.uuid4().hex


def new_key() -> str:
    """A fresh Idempotency-Key."""
    return f"key-{uuid.uuid4()}"


def barrel(
    sku: str = "SMALL_RED_BARREL",
    ml: int = 500,
    potion_type: tuple[float, ...] = RED,
    price: int = 100,
    quantity: int = 1,
) -> Barrel:
    return Barrel(sku, ml, potion_type, price, quantity)  # type: ignore[arg-type]


SMALL_RED = barrel()
SMALL_GREEN = barrel("SMALL_GREEN_BARREL", potion_type=GREEN)
MINI_BLUE = barrel("MINI_BLUE_BARREL", 200, BLUE, 60)

WHOLESALE = [
    barrel(f"{size}_{name}_BARREL", ml, colour, price, 10)
    for name, colour in (("RED", RED), ("GREEN", GREEN), ("BLUE", BLUE), ("DARK", DARK))
    for size, ml, price in (("MINI", 200, 60), ("SMALL", 500, 100), ("MEDIUM", 2500, 250), ("LARGE", 10_000, 500))
]

ALICE = Customer("c-1", "Alice", "Wizard", "Elf", 7)


def barrel_json(b: Barrel) -> dict[str, object]:
    return {
        "sku": b.sku,
        "ml_per_barrel": b.ml_per_barrel,
        "potion_type": list(b.potion_type),
        "price": b.price,
        "quantity": b.quantity,
    }


def customer_json(c: Customer = ALICE) -> dict[str, object]:
    return {
        "customer_id": c.customer_id,
        "customer_name": c.customer_name,
        "character_class": c.character_class,
        "character_species": c.character_species,
        "level": c.level,
    }


NEW_SHOP = {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 100}  # the audit of a shop just opened
# Every account of a shop just opened, with its balance: the opening locks (and so opens) the world's side of
# everything the shop could hold.
OPENED = {
    "shop/gold": 100,
    "shop/ml_capacity": 1,
    "shop/potion_capacity": 1,
    "world/gold": -100,
    "world/ml_capacity": -1,
    "world/potion_capacity": -1,
    **{f"world/{c}": 0 for c in ("ml:red", "ml:green", "ml:blue", "ml:dark")},
    **{f"world/potion:{p.sku}": 0 for p in (*DEFAULT_POTIONS, *BLENDS)},
}
