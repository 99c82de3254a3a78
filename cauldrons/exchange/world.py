"""The exchange's world: who visits, what they like and can afford, and what the wholesalers offer.

Pure rules after the course's exchange (API.md): every function that chooses takes a `random.Random`, so one seed
plays one game. Nothing here knows HTTP or the shop's code.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

COLOURS: tuple[str, ...] = ("red", "green", "blue", "dark")
DAYS: tuple[str, ...] = ("Edgeday", "Bloomday", "Arcanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")
HOURS: tuple[int, ...] = tuple(range(0, 24, 2))  # 12 ticks a day
BUSY_DAYS = frozenset({"Blesseday", "Soulday"})
Recipe = tuple[int, int, int, int]  # percent of red, green, blue, dark; 100 in all

# What each class likes, as weights over the colours; a potion's appeal is its recipe weighed by them.
CLASS_COLOURS: Mapping[str, Mapping[str, int]] = {
    "Warrior": {"red": 3, "green": 1},
    "Paladin": {"red": 2, "green": 2},
    "Wizard": {"blue": 3, "red": 1},
    "Sorcerer": {"blue": 2, "dark": 2},
    "Druid": {"green": 3, "blue": 1},
    "Cleric": {"green": 2, "blue": 2},
    "Rogue": {"dark": 3, "green": 1},
    "Necromancer": {"dark": 1},
    "Bard": {"red": 1, "green": 1, "blue": 1, "dark": 1},
}
SPECIES_WEALTH: Mapping[str, float] = {
    "Human": 1.0,
    "Elf": 1.2,
    "Dwarf": 1.3,
    "Gnome": 1.1,
    "Halfling": 0.8,
    "Orc": 0.9,
}
NAMES = (
    "Aldric",
    "Brenna",
    "Corwin",
    "Dagny",
    "Elowen",
    "Fenwick",
    "Gilda",
    "Hollis",
    "Isolde",
    "Jareth",
    "Kestra",
    "Lorcan",
    "Maelis",
    "Nyx",
    "Orrin",
    "Perrin",
    "Quenby",
    "Rowan",
    "Sable",
    "Thorne",
    "Ulric",
    "Vesna",
    "Wynn",
    "Yara",
    "Zephyr",
)

BASE_WEALTH = 40  # gold a level-1 Human carries at most; each level adds WEALTH_PER_LEVEL
WEALTH_PER_LEVEL = 20
LIKES = 0.5  # the least appeal at which a customer buys a potion
MAX_LINES = 2  # different potions one customer buys at most
SHOPPING_CHANCE = 0.8  # a visitor who goes on to look at the catalog and maybe buy

# Wholesale offers: (size, ml per barrel, price); blue costs more, LARGE is priced by the day.
BARREL_SIZES: tuple[tuple[str, int, int], ...] = (
    ("MINI", 200, 60),
    ("SMALL", 500, 100),
    ("MEDIUM", 2500, 250),
    ("LARGE", 10_000, 0),
)
BLUE_PRICES = {"SMALL": 120, "MEDIUM": 300}
LARGE_PRICES = (400, 750)
OFFERED = (10, 30)  # barrels of each kind on offer
SOLD_OUT = 0.15  # chance a kind of barrel is not on offer this time
DARK_SOLD_OUT = 0.4  # dark barrels are rarer


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    character_class: str
    species: str
    level: int

    def __post_init__(self) -> None:
        if self.character_class not in CLASS_COLOURS or self.species not in SPECIES_WEALTH:
            raise ValueError(f"no such customer: a {self.species} {self.character_class}")
        if not 1 <= self.level <= 20:
            raise ValueError(f"a level is 1..20, not {self.level}")

    @property
    def wealth(self) -> int:
        """The most gold this customer ever carries: grows with level, and some species are richer."""
        return round((BASE_WEALTH + WEALTH_PER_LEVEL * self.level) * SPECIES_WEALTH[self.species])

    def appeal(self, recipe: Recipe) -> float:
        """How much this customer's class likes a potion, 0..1: its colours weighed by the class's taste."""
        weights = CLASS_COLOURS[self.character_class]
        best = max(weights.values())
        return sum(pct * weights.get(colour, 0) for colour, pct in zip(COLOURS, recipe)) / (100 * best)

    def as_json(self) -> dict[str, Any]:
        return {
            "customer_id": self.customer_id,
            "customer_name": self.name,
            "character_class": self.character_class,
            "character_species": self.species,
            "level": self.level,
        }


@dataclass(frozen=True)
class CatalogItem:
    """One line of the shop's catalog, as the shop answered it."""

    sku: str
    name: str
    quantity: int
    price: int
    potion_type: Recipe

    @classmethod
    def from_json(cls, item: Mapping[str, Any]) -> CatalogItem:
        return cls(item["sku"], item["name"], item["quantity"], item["price"], tuple(item["potion_type"]))


@dataclass(frozen=True)
class BarrelOffer:
    """A wholesale barrel of one colour (so its ml is exactly ml_per_barrel of that colour, whatever rounding the
    shop does for mixed barrels)."""

    sku: str
    ml_per_barrel: int
    colour: str
    price: int
    quantity: int

    def __post_init__(self) -> None:
        if self.colour not in COLOURS or self.ml_per_barrel <= 0 or self.price < 0 or self.quantity < 0:
            raise ValueError(f"not a barrel offer: {self}")

    @property
    def potion_type(self) -> list[float]:
        return [1.0 if colour == self.colour else 0.0 for colour in COLOURS]

    def as_json(self, quantity: int | None = None) -> dict[str, Any]:
        """The offer as the contract's Barrel; with `quantity`, as a delivery line of that many."""
        return {
            "sku": self.sku,
            "ml_per_barrel": self.ml_per_barrel,
            "potion_type": self.potion_type,
            "price": self.price,
            "quantity": self.quantity if quantity is None else quantity,
        }


# --- customers -----------------------------------------------------------------------------------------------------


def population(rng: random.Random, size: int = 150) -> list[Customer]:
    """The town's customers, each with a class, a species and a level (most are low-level, a few are heroes)."""
    classes, species = sorted(CLASS_COLOURS), sorted(SPECIES_WEALTH)
    town = []
    for n in range(1, size + 1):
        kind = rng.choice(classes)
        name = f"{rng.choice(NAMES)} the {kind}"
        level = min(20, 1 + int(rng.expovariate(1 / 5)))
        town.append(Customer(f"c{n:04d}", name, kind, rng.choice(species), level))
    return town


def crowd_size(day: str, hour: int, rng: random.Random) -> int:
    """How many customers visit in one tick: few at night, most in the evening, more on the busy days."""
    low, high = (1, 3) if hour < 6 or hour >= 22 else (4, 8) if hour >= 16 else (2, 6)
    if day in BUSY_DAYS:
        high += 3
    return rng.randint(low, high)


def visitors(town: Sequence[Customer], day: str, hour: int, rng: random.Random) -> list[Customer]:
    return rng.sample(list(town), min(crowd_size(day, hour, rng), len(town)))


def goes_shopping(rng: random.Random) -> bool:
    return rng.random() < SHOPPING_CHANCE


def purse(customer: Customer, rng: random.Random) -> int:
    """The gold a customer carries on this visit: between 60% and all of their wealth."""
    return round(customer.wealth * rng.uniform(0.6, 1.0))


def choose(
    customer: Customer, catalog: Sequence[CatalogItem], gold: int, rng: random.Random
) -> list[tuple[CatalogItem, int]]:
    """What a customer puts in the cart: the potions they like best (cheaper first on a tie), at most MAX_LINES of
    them, a few of each (more at higher levels), never more than their gold or the catalog's quantity."""
    liked = sorted(
        (item for item in catalog if customer.appeal(item.potion_type) >= LIKES),
        key=lambda item: (-customer.appeal(item.potion_type), item.price, item.sku),
    )
    lines = []
    for item in liked[:MAX_LINES]:
        wanted = rng.randint(1, 1 + customer.level // 5)
        quantity = min(wanted, gold // item.price if item.price > 0 else wanted, item.quantity)
        if quantity > 0:
            lines.append((item, quantity))
            gold -= quantity * item.price
    return lines


# --- wholesale -----------------------------------------------------------------------------------------------------


def wholesale_catalog(rng: random.Random) -> list[BarrelOffer]:
    """Today's barrels: single-colour MINI/SMALL/MEDIUM/LARGE of each colour, some sold out, prices moving ±10%."""
    offers = []
    for colour in COLOURS:
        for size, ml, base in BARREL_SIZES:
            if rng.random() < (DARK_SOLD_OUT if colour == "dark" else SOLD_OUT):
                continue
            if size == "LARGE":
                price = rng.randint(*LARGE_PRICES)
            else:
                price = round((BLUE_PRICES.get(size, base) if colour == "blue" else base) * rng.uniform(0.9, 1.1))
            offers.append(BarrelOffer(f"{size}_{colour.upper()}_BARREL", ml, colour, price, rng.randint(*OFFERED)))
    return offers


def fill_order(
    plan: Sequence[Mapping[str, Any]], offers: Sequence[BarrelOffer]
) -> tuple[list[tuple[BarrelOffer, int]], list[str]]:
    """The barrels to deliver for a shop's plan: only what it asked for AND what was offered. Returns the order and
    every way the plan broke the contract (unknown sku, quantity not positive or above the offer)."""
    by_sku = {offer.sku: offer for offer in offers}
    asked: dict[str, int] = {}
    problems = []
    for line in plan:
        sku, quantity = line.get("sku"), line.get("quantity")
        if not isinstance(sku, str) or sku not in by_sku:
            problems.append(f"barrel plan names {sku!r}, which was not offered")
        elif not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
            problems.append(f"barrel plan asks for {quantity!r} of {sku}, not a positive whole number")
        else:
            asked[sku] = asked.get(sku, 0) + quantity
    order = []
    for sku, quantity in asked.items():
        offer = by_sku[sku]
        if quantity > offer.quantity:
            problems.append(f"barrel plan asks for {quantity} of {sku} but only {offer.quantity} were offered")
        order.append((offer, min(quantity, offer.quantity)))
    return order, problems
