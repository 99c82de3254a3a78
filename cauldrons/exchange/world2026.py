"""The `2026` world: the potion exchange as public 2026 shops saw it (docs/world-2026.md gives the sources and
marks every number chosen here).

Six classes each prefer one recipe; a potion matches a class by 1 - L1(recipe, preferred) / 200. A visitor's
willingness to pay for a potion is their wealth (level and species) times match ** GAMMA. A rival shop often offers
the visitor's preferred recipe; the visitor buys from us only if our best surplus (willingness to pay - price) is
positive and at least the rival's. Whether a visitor looks at our catalog at all rises with our successful sales to
their class (recognition). Crowds follow a daily cycle times a weekly one. LARGE barrels, the cheapest per ml, come
only in a few windows of the week.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence

from cauldrons.exchange.world import COLOURS, NAMES, BarrelOffer, CatalogItem, Customer, Line, Recipe, Visit

NAME = "2026"
DAYS: tuple[str, ...] = ("Edgeday", "Bloomday", "Aracanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")

# Each class's preferred recipe (public) and its share of the town (chosen).
PREFERENCES: Mapping[str, Recipe] = {
    "Warrior": (100, 0, 0, 0),
    "Seer": (0, 100, 0, 0),
    "Runesmith": (0, 0, 100, 0),
    "Hunter": (50, 50, 0, 0),
    "Wolf-Warrior": (75, 25, 0, 0),
    "Shadow Walker": (0, 0, 0, 100),
}
CLASS_SHARES: Mapping[str, float] = {
    "Warrior": 0.24,
    "Hunter": 0.18,
    "Seer": 0.16,
    "Wolf-Warrior": 0.16,
    "Runesmith": 0.14,
    "Shadow Walker": 0.12,
}
# Species (public names) with their share of the town and their wealth multiplier (both chosen).
SPECIES: Mapping[str, tuple[float, float]] = {
    "Folk": (0.45, 1.0),
    "Alfar": (0.20, 1.15),
    "Dvergar": (0.20, 1.3),
    "Jotnar": (0.15, 0.9),
}
MEAN_LEVEL_ABOVE_1 = 3.5  # levels are 1 + an exponential draw, capped at 20: most are low (chosen)

# Willingness to pay (chosen): (WTP_BASE + WTP_PER_LEVEL * level) * species wealth * match ** GAMMA.
WTP_BASE = 38
WTP_PER_LEVEL = 4
GAMMA = 2.0
PURSE = (0.8, 2.5)  # a visitor carries this many times their wealth, uniformly (chosen)
WANT_LEVELS = 6  # a visitor wants randint(1, 1 + level // WANT_LEVELS) of a line (chosen)
SECOND_LINE = 0.2  # chance a visitor buys a second, different potion (chosen)

# Rivals (prices public, presence chosen): a rival offers the visitor's preferred recipe at RIVAL_PRICES.
RIVAL_CHANCE = 0.6
RIVAL_PRICES = (30, 50)

# Recognition (chosen): the chance a visitor looks at our catalog, by our successful checkouts to their class.
LOOK_BASE = 0.7
LOOK_GAIN = 0.25
LOOK_SCALE = 15.0

# Crowds (chosen): a Poisson draw around VISITORS * DAILY[hour] * WEEKLY[day].
VISITORS = 5.0
DAILY: Mapping[int, float] = {
    0: 0.3,
    2: 0.2,
    4: 0.2,
    6: 0.5,
    8: 0.9,
    10: 1.1,
    12: 1.3,
    14: 1.2,
    16: 1.4,
    18: 1.6,
    20: 1.3,
    22: 0.7,
}
WEEKLY: Mapping[str, float] = {
    "Edgeday": 0.9,
    "Bloomday": 0.8,
    "Aracanaday": 1.0,
    "Hearthday": 0.9,
    "Crownday": 1.1,
    "Blesseday": 1.3,
    "Soulday": 1.2,
}

# Wholesale (public prices, ±10 %; LARGE's price, windows and every quantity chosen).
BARREL_SIZES: tuple[tuple[str, int, int], ...] = (
    ("MINI", 200, 60),
    ("SMALL", 500, 100),
    ("MEDIUM", 2500, 250),
    ("LARGE", 10_000, 550),
)
BLUE_PRICES = {"SMALL": 120, "MEDIUM": 300, "LARGE": 650}
LARGE_WINDOWS = frozenset(
    {("Bloomday", 8), ("Bloomday", 12), ("Crownday", 16), ("Crownday", 20), ("Soulday", 0), ("Soulday", 4)}
)
OFFERED = (10, 30)
LARGE_OFFERED = (2, 6)
SOLD_OUT = 0.1
DARK_SOLD_OUT = 0.35


def match(character_class: str, recipe: Recipe) -> float:
    """How closely a potion matches a class's preferred recipe, 0..1."""
    preferred = PREFERENCES[character_class]
    return 1 - sum(abs(a - b) for a, b in zip(recipe, preferred)) / 200


def weight(character_class: str, recipe: Recipe) -> float:
    """The share of a visitor's wealth they would pay for a potion: match ** GAMMA."""
    return float(match(character_class, recipe) ** GAMMA)


def wealth(customer: Customer) -> float:
    """What a customer would pay for a potion that matches their class perfectly."""
    return (WTP_BASE + WTP_PER_LEVEL * customer.level) * SPECIES[customer.species][1]


def willingness(customer: Customer, recipe: Recipe) -> float:
    return wealth(customer) * weight(customer.character_class, recipe)


def rival_surplus(visit: Visit) -> float:
    """What the visitor gains at the rival's (0 when there is no rival or it asks more than they would pay)."""
    return 0.0 if visit.rival is None else max(0.0, wealth(visit.customer) - visit.rival)


def look_chance(sales_to_class: int) -> float:
    return LOOK_BASE + LOOK_GAIN * (1 - math.exp(-sales_to_class / LOOK_SCALE))


def poisson(mean: float, rng: random.Random) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def best_item(customer: Customer, catalog: Sequence[CatalogItem]) -> tuple[CatalogItem, float] | None:
    """The item with the largest surplus (ties: the cheaper, then the sku), and its surplus."""
    if not catalog:
        return None
    surplus = {item.sku: willingness(customer, item.potion_type) - item.price for item in catalog}
    item = min(catalog, key=lambda i: (-surplus[i.sku], i.price, i.sku))
    return item, surplus[item.sku]


class World2026:
    """The `2026` profile (see the module's docstring)."""

    name = NAME
    days = DAYS

    def population(self, rng: random.Random, size: int) -> list[Customer]:
        classes, species = list(CLASS_SHARES), list(SPECIES)
        town = []
        for n in range(1, size + 1):
            kind = rng.choices(classes, [CLASS_SHARES[c] for c in classes])[0]
            name = f"{rng.choice(NAMES)} the {kind}"
            level = min(20, 1 + int(rng.expovariate(1 / MEAN_LEVEL_ABOVE_1)))
            kin = rng.choices(species, [SPECIES[s][0] for s in species])[0]
            town.append(Customer(f"c{n:04d}", name, kind, kin, level))
        return town

    def crowd_size(self, day: str, hour: int, rng: random.Random) -> int:
        return poisson(VISITORS * DAILY[hour] * WEEKLY.get(day, 1.0), rng)

    def visit(self, tick: int, day: str, hour: int, n: int, customer: Customer, rng: random.Random) -> Visit:
        rival_here = rng.random() < RIVAL_CHANCE
        rival_price = rng.randint(*RIVAL_PRICES)
        gold = round(wealth(customer) * rng.uniform(*PURSE))
        most = 1 + customer.level // WANT_LEVELS
        wants = (rng.randint(1, most), rng.randint(1, most))
        second = rng.random() < SECOND_LINE
        look = rng.random()
        return Visit(tick, day, hour, n, customer, True, gold, wants, second, rival_price if rival_here else None, look)

    def choose(self, visit: Visit, catalog: Sequence[CatalogItem], sales: Mapping[str, int]) -> list[Line]:
        """Nothing unless the visitor looks at our catalog (recognition); then the item of largest surplus among
        those in stock and affordable, if that surplus is positive and at least the rival's; with a second line
        the next best the same way from the gold left."""
        customer = visit.customer
        if visit.look >= look_chance(sales.get(customer.character_class, 0)):
            return []
        rival = rival_surplus(visit)
        gold = visit.purse
        lines: list[Line] = []
        for want in visit.wanted[: 2 if visit.second else 1]:
            taken = {item.sku for item, _ in lines}
            found = best_item(
                customer, [i for i in catalog if i.sku not in taken and i.quantity >= 1 and 0 < i.price <= gold]
            )
            if found is None or found[1] <= 0 or found[1] < rival:
                break
            item, _ = found
            quantity = min(want, gold // item.price, item.quantity)
            lines.append((item, quantity))
            gold -= quantity * item.price
        return lines

    def wholesale_catalog(self, day: str, hour: int, rng: random.Random) -> list[BarrelOffer]:
        """MINI, SMALL and MEDIUM of every colour (some sold out, dark more often), LARGE only in its windows."""
        offers = []
        for colour in COLOURS:
            for size, ml, base in BARREL_SIZES:
                if size == "LARGE" and (day, hour) not in LARGE_WINDOWS:
                    continue
                if rng.random() < (DARK_SOLD_OUT if colour == "dark" else SOLD_OUT):
                    continue
                price = round((BLUE_PRICES.get(size, base) if colour == "blue" else base) * rng.uniform(0.9, 1.1))
                quantity = rng.randint(*(LARGE_OFFERED if size == "LARGE" else OFFERED))
                offers.append(BarrelOffer(f"{size}_{colour.upper()}_BARREL", ml, colour, price, quantity))
        return offers


WORLD = World2026()
