"""The exchange's own books of the shop: what it delivered and sold, tallied independently of the shop's ledger.

The books start where the contract says a reset leaves the shop (100 gold, no ml, no potions, one unit of each
capacity) and change only by answers the exchange actually received with a 2xx. They compare themselves with what
the shop reports (audit, ledger accounts, catalog) and check the shop's plans against the contract.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from cauldrons.exchange.world import COLOURS, BarrelOffer, CatalogItem, Recipe

STARTING_GOLD = 100
POTIONS_PER_UNIT = 50
ML_PER_UNIT = 10_000
UNIT_PRICE = 1000
MAX_UNITS_PER_ORDER = 10
ML_PER_POTION = 100
CATALOG_SIZE = 6
MAX_CATALOG_QUANTITY = 10_000
UNSEEN = "shop/potion:<skus not yet seen in the catalog>"


@dataclass(frozen=True)
class Difference:
    """One figure the books and the shop disagree on."""

    what: str
    books: int
    shop: int | None  # None: the shop's answer lacks the figure

    def __str__(self) -> str:
        return f"{self.what}: books {self.books}, shop {self.shop}"


def recipe_of(parts: Sequence[Any]) -> Recipe | None:
    """A potion_type as the contract has it (four whole percents >= 0 summing to 100), or None."""
    if len(parts) != 4 or any(not isinstance(p, int) or isinstance(p, bool) or p < 0 for p in parts):
        return None
    return tuple(parts) if sum(parts) == ML_PER_POTION else None


@dataclass
class Books:
    gold: int = STARTING_GOLD
    ml: Counter[str] = field(default_factory=Counter)
    potions: Counter[Recipe] = field(default_factory=Counter)
    potion_capacity: int = 1  # units
    ml_capacity: int = 1
    skus: dict[Recipe, str] = field(default_factory=dict)  # learned from the catalog

    # --- what happened -------------------------------------------------------------------------------------------

    def barrels_delivered(self, order: Iterable[tuple[BarrelOffer, int]]) -> None:
        for offer, quantity in order:
            self.gold -= offer.price * quantity
            self.ml[offer.colour] += offer.ml_per_barrel * quantity

    def bottled(self, mixes: Iterable[tuple[Recipe, int]]) -> None:
        for recipe, quantity in mixes:
            for colour, pct in zip(COLOURS, recipe):
                self.ml[colour] -= pct * quantity
            self.potions[recipe] += quantity

    def sold(self, lines: Iterable[tuple[Recipe, int]], gold: int) -> None:
        for recipe, quantity in lines:
            self.potions[recipe] -= quantity
        self.gold += gold

    def capacity_bought(self, potion_units: int, ml_units: int) -> None:
        self.gold -= UNIT_PRICE * (potion_units + ml_units)
        self.potion_capacity += potion_units
        self.ml_capacity += ml_units

    # --- figures -------------------------------------------------------------------------------------------------

    @property
    def total_ml(self) -> int:
        return sum(self.ml[c] for c in COLOURS)

    @property
    def total_potions(self) -> int:
        return sum(self.potions.values())

    @property
    def free_ml(self) -> int:
        return self.ml_capacity * ML_PER_UNIT - self.total_ml

    @property
    def free_potions(self) -> int:
        return self.potion_capacity * POTIONS_PER_UNIT - self.total_potions

    def potions_by_sku(self) -> dict[str, int]:
        """Potions on hand by sku, where the catalog has told us the sku; the rest under their recipe."""
        return {self.skus.get(recipe, str(list(recipe))): n for recipe, n in sorted(self.potions.items()) if n}

    # --- comparing with the shop ---------------------------------------------------------------------------------

    def audit_differences(self, audit: Mapping[str, Any]) -> list[Difference]:
        """Compare with GET /inventory/audit."""
        ours = {"gold": self.gold, "ml_in_barrels": self.total_ml, "number_of_potions": self.total_potions}
        return [Difference(f"audit {name}", n, audit.get(name)) for name, n in ours.items() if audit.get(name) != n]

    def account_differences(self, balances: Mapping[str, int]) -> list[Difference]:
        """Compare with the shop's accounts from GET /ledger/accounts ({"shop/gold": 100, ...}; missing = 0). Potions
        whose sku the catalog has not shown yet are compared as one sum."""
        ours = {
            "shop/gold": self.gold,
            "shop/potion_capacity": self.potion_capacity,
            "shop/ml_capacity": self.ml_capacity,
            **{f"shop/ml:{c}": self.ml[c] for c in COLOURS},
            **{f"shop/potion:{sku}": self.potions[recipe] for recipe, sku in self.skus.items()},
        }
        differences = [
            Difference(name, n, balances.get(name, 0)) for name, n in ours.items() if balances.get(name, 0) != n
        ]
        unseen_shop = 0
        for name, n in sorted(balances.items()):
            if not name.startswith("shop/") or name in ours:
                continue
            if name.startswith("shop/potion:"):
                unseen_shop += n
            elif n:
                differences.append(Difference(name, 0, n))
        unseen_books = sum(n for recipe, n in self.potions.items() if recipe not in self.skus)
        if unseen_books != unseen_shop:
            differences.append(Difference(UNSEEN, unseen_books, unseen_shop))
        return differences

    def catalog_differences(self, catalog: Sequence[CatalogItem]) -> tuple[list[Difference], list[str]]:
        """Compare with GET /catalog/ and learn its skus. Returns the quantities that differ and the ways the catalog
        breaks the contract (too long, a bad line, one recipe under two skus, stock kept off the catalog)."""
        problems = []
        if len(catalog) > CATALOG_SIZE:
            problems.append(f"the catalog lists {len(catalog)} potions, more than {CATALOG_SIZE}")
        differences = []
        for item in catalog:
            recipe = recipe_of(item.potion_type)
            if recipe is None or not 1 <= item.price <= 500 or item.quantity < 1:
                problems.append(f"catalog line {item} breaks the contract")
                continue
            known_sku = self.skus.get(recipe)
            known_recipe = next((r for r, sku in self.skus.items() if sku == item.sku), None)
            if known_sku not in (None, item.sku) or known_recipe not in (None, recipe):
                problems.append(
                    f"catalog sells {item.sku} as {list(recipe)}: one sku, one recipe, and the other way "
                    f"round, but earlier it was {known_sku or list(known_recipe or ())}"
                )
                continue
            self.skus[recipe] = item.sku
            ours = min(self.potions[recipe], MAX_CATALOG_QUANTITY)
            if item.quantity != ours:
                differences.append(Difference(f"catalog {item.sku}", ours, item.quantity))
        in_stock = sum(1 for n in self.potions.values() if n > 0)
        if len(catalog) < min(in_stock, CATALOG_SIZE):
            problems.append(f"the catalog lists {len(catalog)} potions but {in_stock} kinds are in stock")
        return differences, problems

    # --- checking the shop's plans against the contract ------------------------------------------------------------

    def barrel_order_problems(self, order: Sequence[tuple[BarrelOffer, int]]) -> list[str]:
        """A barrel plan may not cost more gold than the shop has, nor hold more ml than it has room for."""
        cost = sum(offer.price * k for offer, k in order)
        ml = sum(offer.ml_per_barrel * k for offer, k in order)
        problems = []
        if cost > self.gold:
            problems.append(f"barrel plan costs {cost} gold but the shop has {self.gold}")
        if ml > self.free_ml:
            problems.append(f"barrel plan brings {ml} ml but the shop has room for {self.free_ml}")
        return problems

    def bottler_plan_problems(self, plan: Sequence[Mapping[str, Any]]) -> tuple[list[tuple[Recipe, int]], list[str]]:
        """The mixes of a bottler plan, and every way it breaks the contract (a bad line, more ml than on hand, more
        potions than there is room for)."""
        mixes, problems = [], []
        for line in plan:
            recipe, quantity = recipe_of(line.get("potion_type") or []), line.get("quantity")
            if recipe is None or not isinstance(quantity, int) or isinstance(quantity, bool) or not 1 <= quantity:
                problems.append(f"bottler plan line {dict(line)} breaks the contract")
                continue
            mixes.append((recipe, quantity))
        need: Counter[str] = Counter()
        for recipe, quantity in mixes:
            for colour, pct in zip(COLOURS, recipe):
                need[colour] += pct * quantity
        problems += [
            f"bottler plan uses {need[c]} ml of {c} but the shop has {self.ml[c]}"
            for c in COLOURS
            if need[c] > self.ml[c]
        ]
        made = sum(q for _, q in mixes)
        if made > self.free_potions:
            problems.append(f"bottler plan makes {made} potions but the shop has room for {self.free_potions}")
        return mixes, problems

    def capacity_plan_problems(self, plan: Mapping[str, Any]) -> list[str]:
        units = [plan.get("potion_capacity"), plan.get("ml_capacity")]
        if any(not isinstance(u, int) or isinstance(u, bool) or not 0 <= u <= MAX_UNITS_PER_ORDER for u in units):
            return [f"capacity plan {dict(plan)} breaks the contract"]
        cost = UNIT_PRICE * (plan["potion_capacity"] + plan["ml_capacity"])
        return [f"capacity plan costs {cost} gold but the shop has {self.gold}"] if cost > self.gold else []

    def invariant_problems(self) -> list[str]:
        """What can never be true of a shop that keeps the contract: a negative balance, stock beyond capacity."""
        problems = [f"gold is {self.gold}"] if self.gold < 0 else []
        problems += [f"ml of {c} is {self.ml[c]}" for c in COLOURS if self.ml[c] < 0]
        problems += [f"{n} potions of {list(recipe)}" for recipe, n in self.potions.items() if n < 0]
        if self.free_potions < 0:
            room = self.potion_capacity * POTIONS_PER_UNIT
            problems.append(f"{self.total_potions} potions held with room for {room}")
        if self.free_ml < 0:
            problems.append(f"{self.total_ml} ml held with room for {self.ml_capacity * ML_PER_UNIT}")
        return problems
