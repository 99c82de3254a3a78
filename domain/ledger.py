"""The double-entry ledger: commodities, accounts, entries, and the transactions the shop makes.

Every change to gold, ml, potions or capacity is a `Transaction` whose entries net to zero per commodity: what the
shop gains, a counter-account (suppliers, customers, bottling, builders, the world) gives, and the other way round.
A balance is the sum of an account's entries. Functions here build transactions from plain values and check them
against plain balances; storing and summing is the repositories' job.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import NewType

from domain.clock import GameTime
from domain.errors import (
    LedgerInvariantViolated,
)
from domain.potions import COLOURS, Barrel, PotionType

# Commodities: one per thing the shop counts. Potions are counted per sku.
Commodity = NewType("Commodity", str)  # what an account holds: "gold", "ml:red", "potion:RED_POTION", ...
GOLD = Commodity("gold")
POTION_CAPACITY = Commodity("potion_capacity")
ML_CAPACITY = Commodity("ml_capacity")
POTION_PREFIX = "potion:"


def ml_of(colour: str) -> Commodity:
    return Commodity(f"ml:{colour}")


def potion(sku: str) -> Commodity:
    return Commodity(f"{POTION_PREFIX}{sku}")


ML = {colour: ml_of(colour) for colour in COLOURS}

# Owners: the shop, and the counter-parties every shop entry is balanced against.
SHOP = "shop"
WORLD = "world"  # where the opening stock comes from and resets send things back to
SUPPLIERS = "suppliers"  # barrel sellers: take gold, give ml
CUSTOMERS = "customers"  # take potions, give gold
BOTTLING = "bottling"  # takes ml, gives potions
BUILDERS = "builders"  # take gold, give capacity units
ADJUSTMENTS = "adjustments"  # the other side of every correction: what the books had wrong
OWNERS = (SHOP, WORLD, SUPPLIERS, CUSTOMERS, BOTTLING, BUILDERS, ADJUSTMENTS)

POTIONS_PER_CAPACITY_UNIT = 50
ML_PER_CAPACITY_UNIT = 10_000
CAPACITY_UNIT_PRICE = 1000
STARTING_BALANCES: Mapping[Commodity, int] = {GOLD: 100, POTION_CAPACITY: 1, ML_CAPACITY: 1}


@dataclass(frozen=True, order=True)
class AccountRef:
    """An account: one owner's holding of one commodity."""

    owner: str
    commodity: Commodity

    def __str__(self) -> str:
        return f"{self.owner}/{self.commodity}"

    @classmethod
    def parse(cls, text: str) -> AccountRef:
        """ "shop/gold" -> AccountRef("shop", "gold"); ValueError unless both halves are there."""
        owner, sep, commodity = text.partition("/")
        if not (owner and sep and commodity):
            raise ValueError(f"{text!r} is not owner/commodity")
        return cls(owner, Commodity(commodity))

    @property
    def non_negative(self) -> bool:
        """Only the shop's holdings are real stock that cannot go below zero; counter-accounts are the mirror."""
        return self.owner == SHOP


@dataclass(frozen=True)
class Entry:
    account: AccountRef
    change: int


@dataclass(frozen=True)
class Transaction:
    """An immutable, balanced set of entries. It refuses to exist unless every commodity nets to zero."""

    kind: str
    description: str
    entries: tuple[Entry, ...] = field(default=())

    def __post_init__(self) -> None:
        net: Counter[Commodity] = Counter()
        for entry in self.entries:
            if not isinstance(entry.change, int) or isinstance(entry.change, bool):
                raise LedgerInvariantViolated(f"{self.description}: change {entry.change!r} is not a whole number")
            net[entry.account.commodity] += entry.change
        unbalanced = {c: n for c, n in net.items() if n}
        if unbalanced:
            raise LedgerInvariantViolated(f"{self.description}: entries do not net to zero: {unbalanced}")

    def changes(self) -> dict[AccountRef, int]:
        out: Counter[AccountRef] = Counter()
        for entry in self.entries:
            out[entry.account] += entry.change
        return dict(out)


@dataclass(frozen=True)
class PostedEntry:
    account: AccountRef
    change: int
    balance_after: int


@dataclass(frozen=True)
class PostedTransaction:
    """A transaction as the books hold it: numbered, timed, each entry with its account's balance after it."""

    id: int
    created_at: datetime
    kind: str
    description: str
    game_time: GameTime | None
    request_route: str | None
    request_key: str | None
    entries: tuple[PostedEntry, ...]


def transfer(kind: str, description: str, moves: Iterable[tuple[str, str, Commodity, int]]) -> Transaction:
    """Build a transaction from (from_owner, to_owner, commodity, amount) moves; zero moves are dropped."""
    entries: list[Entry] = []
    for source, target, commodity, amount in moves:
        if amount:
            entries.append(Entry(AccountRef(source, commodity), -amount))
            entries.append(Entry(AccountRef(target, commodity), amount))
    return Transaction(kind, description, tuple(entries))


# --- the shop's transactions ---------------------------------------------------------------------------------


def barrel_purchase(barrels: Iterable[Barrel]) -> Transaction:
    barrels = [b for b in barrels if b.quantity]
    ml: Counter[str] = Counter()
    for barrel in barrels:
        ml.update(barrel.ml())
    gold = sum(b.cost for b in barrels)
    bought = ", ".join(f"{b.quantity} × {b.sku}" for b in barrels) or "nothing"
    return transfer(
        "barrel_purchase",
        f"bought {bought} for {gold} gold",
        [(SHOP, SUPPLIERS, GOLD, gold)] + [(SUPPLIERS, SHOP, ML[c], ml[c]) for c in COLOURS],
    )


def bottling(batches: Iterable[tuple[str, PotionType, int]]) -> Transaction:
    """Turn ml into potions: (sku, recipe, quantity) batches."""
    batches = [b for b in batches if b[2]]
    ml: Counter[str] = Counter()
    for _, recipe, quantity in batches:
        ml.update(recipe.ml(quantity))
    made = ", ".join(f"{q} × {sku}" for sku, _, q in batches) or "nothing"
    return transfer(
        "bottling",
        f"bottled {made}",
        [(SHOP, BOTTLING, ML[c], ml[c]) for c in COLOURS] + [(BOTTLING, SHOP, potion(sku), q) for sku, _, q in batches],
    )


def sale(cart_id: int, lines: Iterable[tuple[str, int, int]], payment: str) -> Transaction:
    """Sell (sku, quantity, unit price) lines of a cart."""
    lines = [line for line in lines if line[1]]
    gold = sum(q * price for _, q, price in lines)
    return transfer(
        "sale",
        f"cart {cart_id} checked out: {sum(q for _, q, _ in lines)} potions for {gold} gold, paid by {payment}",
        [(CUSTOMERS, SHOP, GOLD, gold)] + [(SHOP, CUSTOMERS, potion(sku), q) for sku, q, _ in lines],
    )


def capacity_purchase(potion_units: int, ml_units: int) -> Transaction:
    gold = CAPACITY_UNIT_PRICE * (potion_units + ml_units)
    return transfer(
        "capacity_purchase",
        f"bought {potion_units} potion and {ml_units} ml capacity units for {gold} gold",
        [
            (SHOP, BUILDERS, GOLD, gold),
            (BUILDERS, SHOP, POTION_CAPACITY, potion_units),
            (BUILDERS, SHOP, ML_CAPACITY, ml_units),
        ],
    )


def reset(shop_balances: Mapping[AccountRef, int], kind: str = "reset") -> Transaction:
    """Bring every shop balance back to the starting one, against the world. History stays."""
    commodities = {a.commodity for a in shop_balances if a.owner == SHOP} | set(STARTING_BALANCES)
    moves = []
    for commodity in sorted(commodities):
        delta = STARTING_BALANCES.get(commodity, 0) - shop_balances.get(AccountRef(SHOP, commodity), 0)
        moves.append((WORLD, SHOP, commodity, delta))
    return transfer(kind, "shop opened with its starting stock" if kind == "opening" else "shop reset", moves)


def correction(account: AccountRef, change: int, reason: str) -> Transaction:
    """Put right what the books have wrong: `change` moves between `account` and the adjustments account."""
    return transfer(
        "correction",
        f"correction of {account} by {change:+d}: {reason}",
        [(ADJUSTMENTS, account.owner, account.commodity, change)],
    )


def commodities(skus: Iterable[str]) -> list[Commodity]:
    """Everything the shop can hold: gold, ml of each colour, both capacities, and potions of the given skus."""
    return [GOLD, *ML.values(), POTION_CAPACITY, ML_CAPACITY, *(potion(sku) for sku in sorted(set(skus)))]


def is_commodity(commodity: str, skus: Iterable[str]) -> bool:
    """Whether `commodity` is something the shop counts (potions of the given skus)."""
    return commodity in commodities(skus)
