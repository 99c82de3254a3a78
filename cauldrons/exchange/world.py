"""The exchange's world: what every world profile shares (customers, catalog lines, barrel offers, visits), the
`World` protocol a profile implements, and `shoppers`, which draws a whole game's visitors from the seed alone.

A profile's rules are pure: every draw comes from a `random.Random` derived from the seed and the purpose
(`f"{seed}-crowd-{tick}"`, `f"{seed}-visit-{tick}-{n}"`, `f"{seed}-barrels-{tick}"`), so what the shop sells or
prices never moves a later draw: the same seed brings the same visitors, with the same purses, wants and rivals,
and the same barrel offers, whatever the shop does. A visitor's choice is then a pure function of their visit, the
catalog they read and the shop's standing with their class (`World.choose`), which the game and the oracle both
call. Nothing here knows HTTP or the shop's code.

The profiles live in classic.py and world2026.py; worlds.py names them.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

COLOURS: tuple[str, ...] = ("red", "green", "blue", "dark")
HOURS: tuple[int, ...] = tuple(range(0, 24, 2))  # 12 ticks a day
Recipe = tuple[int, int, int, int]  # percent of red, green, blue, dark; 100 in all
Line = tuple["CatalogItem", int]  # a catalog item and how many the customer puts in the cart

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


@dataclass(frozen=True)
class Customer:
    customer_id: str
    name: str
    character_class: str
    species: str
    level: int

    def __post_init__(self) -> None:
        if not self.character_class or not self.species:
            raise ValueError(f"no such customer: a {self.species!r} {self.character_class!r}")
        if not 1 <= self.level <= 20:
            raise ValueError(f"a level is 1..20, not {self.level}")

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


@dataclass(frozen=True)
class Visit:
    """One visitor in one tick, with every draw their choice may need, made before any catalog is read.

    `n` is the visitor's place in the tick's crowd. Which fields a world reads is the world's business: the classic
    world reads `shops`, `purse` and `wanted`; the 2026 world reads `purse`, `wanted`, `second`, `rival` and `look`.
    """

    tick: int
    day: str
    hour: int
    n: int
    customer: Customer
    shops: bool  # goes on to read the catalog (classic)
    purse: int  # gold carried on this visit
    wanted: tuple[int, int]  # how many of a first and of a second line
    second: bool = False  # would buy a second line (2026)
    rival: int | None = None  # a rival shop's price for the visitor's preferred recipe; None: no rival (2026)
    look: float = 0.0  # uniform 0..1, compared with the chance to look at our catalog (2026)


class World(Protocol):
    """A world profile: who lives in town, when and how they visit, what they buy, what the wholesalers offer."""

    name: str
    days: tuple[str, ...]  # the week, as the exchange names its days

    def population(self, rng: random.Random, size: int) -> list[Customer]:
        """The town's customers."""
        ...

    def crowd_size(self, day: str, hour: int, rng: random.Random) -> int:
        """How many of the town visit in one tick."""
        ...

    def visit(self, tick: int, day: str, hour: int, n: int, customer: Customer, rng: random.Random) -> Visit:
        """One visitor's draws (the same draws, in the same order, whatever the shop does)."""
        ...

    def choose(self, visit: Visit, catalog: Sequence[CatalogItem], sales: Mapping[str, int]) -> list[Line]:
        """What the visitor puts in the cart, given the catalog they read and the shop's successful checkouts so
        far by customer class (counted up to the end of the previous tick). Pure."""
        ...

    def wholesale_catalog(self, day: str, hour: int, rng: random.Random) -> list[BarrelOffer]:
        """The barrels offered at a barrel tick."""
        ...


def week_moments(world: World, days: int) -> list[tuple[int, str, int]]:
    """(tick, day, hour) of every tick of a game of `days` days, ticks numbered from 1."""
    return [
        (d * len(HOURS) + h + 1, world.days[d % len(world.days)], hour)
        for d in range(days)
        for h, hour in enumerate(HOURS)
    ]


def town(world: World, seed: int, size: int) -> list[Customer]:
    return world.population(random.Random(f"{seed}-town"), size)


def crowd(world: World, seed: int, people: Sequence[Customer], tick: int, day: str, hour: int) -> list[Visit]:
    """One tick's visitors and their draws, from the seed and the tick alone."""
    rng = random.Random(f"{seed}-crowd-{tick}")
    chosen = rng.sample(list(people), min(world.crowd_size(day, hour, rng), len(people)))
    return [
        world.visit(tick, day, hour, n, customer, random.Random(f"{seed}-visit-{tick}-{n}"))
        for n, customer in enumerate(chosen)
    ]


def shoppers(world: World, seed: int, days: int, customers: int) -> list[Visit]:
    """Every visit of a whole game, in the order the game serves them (by tick, then place in the crowd)."""
    people = town(world, seed, customers)
    return [
        visit for tick, day, hour in week_moments(world, days) for visit in crowd(world, seed, people, tick, day, hour)
    ]


def offers(world: World, seed: int, tick: int, day: str, hour: int) -> list[BarrelOffer]:
    """The wholesale catalog at a barrel tick, from the seed and the tick alone."""
    return world.wholesale_catalog(day, hour, random.Random(f"{seed}-barrels-{tick}"))


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
