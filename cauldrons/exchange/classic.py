"""The `classic` world: invented rules after the course's exchange (API.md).

Nine classes like colours by weights; a potion's appeal is its recipe weighed by them, and a customer buys the
potions they like best (appeal at least LIKES, best first, cheaper first on a tie), at most MAX_LINES of them, as
many as they want and can pay for. Four in five visitors go on to read the catalog. Crowds are biggest in the evening
and on the busy days. Every barrel of every colour is on offer nearly every barrel tick, LARGE included.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from cauldrons.exchange.world import COLOURS, NAMES, BarrelOffer, CatalogItem, Customer, Line, Recipe, Visit

NAME = "classic"
DAYS: tuple[str, ...] = ("Edgeday", "Bloomday", "Arcanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")
BUSY_DAYS = frozenset({"Blesseday", "Soulday"})

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


def wealth(customer: Customer) -> int:
    """The most gold a customer ever carries: grows with level, and some species are richer."""
    return round((BASE_WEALTH + WEALTH_PER_LEVEL * customer.level) * SPECIES_WEALTH[customer.species])


def appeal(character_class: str, recipe: Recipe) -> float:
    """How much a class likes a potion, 0..1: its colours weighed by the class's taste."""
    weights = CLASS_COLOURS[character_class]
    best = max(weights.values())
    return sum(pct * weights.get(colour, 0) for colour, pct in zip(COLOURS, recipe)) / (100 * best)


def wanted(customer: Customer, rng: random.Random) -> int:
    """How many of one potion a customer wants: a few, more at higher levels."""
    return rng.randint(1, 1 + customer.level // 5)


def purse(customer: Customer, rng: random.Random) -> int:
    """The gold a customer carries on this visit: between 60% and all of their wealth."""
    return round(wealth(customer) * rng.uniform(0.6, 1.0))


def choose_lines(customer: Customer, catalog: Sequence[CatalogItem], gold: int, wants: Sequence[int]) -> list[Line]:
    """The potions a customer likes best (cheaper first on a tie), at most MAX_LINES of them, `wants[i]` of the
    i-th, never more than their gold or the catalog's quantity."""
    liked = sorted(
        (item for item in catalog if appeal(customer.character_class, item.potion_type) >= LIKES),
        key=lambda item: (-appeal(customer.character_class, item.potion_type), item.price, item.sku),
    )
    lines = []
    for item, want in zip(liked[:MAX_LINES], wants):
        quantity = min(want, gold // item.price if item.price > 0 else want, item.quantity)
        if quantity > 0:
            lines.append((item, quantity))
            gold -= quantity * item.price
    return lines


class Classic:
    """The `classic` profile (see the module's docstring)."""

    name = NAME
    days = DAYS

    def population(self, rng: random.Random, size: int) -> list[Customer]:
        """Each customer with a class, a species and a level (most are low-level, a few are heroes)."""
        classes, species = sorted(CLASS_COLOURS), sorted(SPECIES_WEALTH)
        town = []
        for n in range(1, size + 1):
            kind = rng.choice(classes)
            name = f"{rng.choice(NAMES)} the {kind}"
            level = min(20, 1 + int(rng.expovariate(1 / 5)))
            town.append(Customer(f"c{n:04d}", name, kind, rng.choice(species), level))
        return town

    def crowd_size(self, day: str, hour: int, rng: random.Random) -> int:
        """Few at night, most in the evening, more on the busy days."""
        low, high = (1, 3) if hour < 6 or hour >= 22 else (4, 8) if hour >= 16 else (2, 6)
        if day in BUSY_DAYS:
            high += 3
        return rng.randint(low, high)

    def visit(self, tick: int, day: str, hour: int, n: int, customer: Customer, rng: random.Random) -> Visit:
        shops = rng.random() < SHOPPING_CHANCE
        gold = purse(customer, rng)
        wants = (wanted(customer, rng), wanted(customer, rng))
        return Visit(tick, day, hour, n, customer, shops, gold, wants)

    def choose(self, visit: Visit, catalog: Sequence[CatalogItem], sales: Mapping[str, int]) -> list[Line]:
        """A shopper buys what they like best (`choose_lines`); the shop's standing plays no part."""
        if not visit.shops:
            return []
        return choose_lines(visit.customer, catalog, visit.purse, visit.wanted)

    def wholesale_catalog(self, day: str, hour: int, rng: random.Random) -> list[BarrelOffer]:
        """Single-colour MINI/SMALL/MEDIUM/LARGE of each colour, some sold out, prices moving ±10%."""
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


WORLD = Classic()
