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

from domain.clock import GameTime
from domain.errors import (
    InsufficientCapacity,
    InsufficientGold,
    InsufficientMl,
    InsufficientStock,
    LedgerInvariantViolated,
)
from domain.potions import COLOURS, Barrel, PotionType

# Commodities: one per thing the shop counts. Potions are counted per sku.
GOLD = "gold"
POTION_CAPACITY = "potion_capacity"
ML_CAPACITY = "ml_capacity"
POTION_PREFIX = "potion:"


def ml_of(colour: str) -> str:
    return f"ml:{colour}"


def potion(sku: str) -> str:
    return f"{POTION_PREFIX}{sku}"


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
STARTING_BALANCES: Mapping[str, int] = {GOLD: 100, POTION_CAPACITY: 1, ML_CAPACITY: 1}


@dataclass(frozen=True, order=True)
class AccountRef:
    """An account: one owner's holding of one commodity."""

    owner: str
    commodity: str

    def __str__(self) -> str:
        return f"{self.owner}/{self.commodity}"

    @classmethod
    def parse(cls, text: str) -> AccountRef:
        """ "shop/gold" -> AccountRef("shop", "gold"); ValueError unless both halves are there."""
        owner, sep, commodity = text.partition("/")
        if not (owner and sep and commodity):
            raise ValueError(f"{text!r} is not owner/commodity")
        return cls(owner, commodity)

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
        net: Counter[str] = Counter()
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


def transfer(kind: str, description: str, moves: Iterable[tuple[str, str, str, int]]) -> Transaction:
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


def commodities(skus: Iterable[str]) -> list[str]:
    """Everything the shop can hold: gold, ml of each colour, both capacities, and potions of the given skus."""
    return [GOLD, *ML.values(), POTION_CAPACITY, ML_CAPACITY, *(potion(sku) for sku in sorted(set(skus)))]


def is_commodity(commodity: str, skus: Iterable[str]) -> bool:
    """Whether `commodity` is something the shop counts (potions of the given skus)."""
    return commodity in commodities(skus)


# --- checking a transaction against balances -----------------------------------------------------------------


@dataclass(frozen=True)
class Inventory:
    """The shop's balances, read as a shopkeeper reads them."""

    gold: int
    ml: Mapping[str, int]
    potions: Mapping[str, int]
    potion_capacity_units: int
    ml_capacity_units: int

    @classmethod
    def from_balances(cls, balances: Mapping[AccountRef, int]) -> Inventory:
        shop = {a.commodity: n for a, n in balances.items() if a.owner == SHOP}
        return cls(
            gold=shop.get(GOLD, 0),
            ml={c: shop.get(ML[c], 0) for c in COLOURS},
            potions={c[len(POTION_PREFIX) :]: n for c, n in shop.items() if c.startswith(POTION_PREFIX)},
            potion_capacity_units=shop.get(POTION_CAPACITY, 0),
            ml_capacity_units=shop.get(ML_CAPACITY, 0),
        )

    @property
    def total_ml(self) -> int:
        return sum(self.ml.values())

    @property
    def total_potions(self) -> int:
        return sum(self.potions.values())

    @property
    def potion_limit(self) -> int:
        return self.potion_capacity_units * POTIONS_PER_CAPACITY_UNIT

    @property
    def ml_limit(self) -> int:
        return self.ml_capacity_units * ML_PER_CAPACITY_UNIT

    @property
    def free_potion_space(self) -> int:
        return max(self.potion_limit - self.total_potions, 0)

    @property
    def free_ml_space(self) -> int:
        return max(self.ml_limit - self.total_ml, 0)


def apply(balances: Mapping[AccountRef, int], txn: Transaction) -> dict[AccountRef, int]:
    after = dict(balances)
    for account, change in txn.changes().items():
        after[account] = after.get(account, 0) + change
    return after


def check_covers(txn: Transaction, balances: Mapping[AccountRef, int], capacity: bool = True) -> None:
    """Refuse `txn` if it would drive a shop balance below zero or (with `capacity`) fill the shop past its
    capacity. A correction records what is really there, so it is held to the first rule only.

    `balances` holds the shop's current balances (accounts missing from it are 0).
    """
    after = apply(balances, txn)
    for account, change in sorted(txn.changes().items()):
        if account.owner != SHOP or after[account] >= 0:
            continue
        have, need = balances.get(account, 0), -change
        commodity = account.commodity
        if commodity == GOLD:
            raise InsufficientGold(need, have)
        if commodity.startswith(POTION_PREFIX):
            raise InsufficientStock(commodity[len(POTION_PREFIX) :], need, have)
        if commodity in ML.values():
            raise InsufficientMl(commodity.split(":", 1)[1], need, have)
        raise InsufficientCapacity(commodity, need, have, units=True)
    if not capacity:
        return
    before, now = Inventory.from_balances(balances), Inventory.from_balances(after)
    if now.total_potions > max(now.potion_limit, before.total_potions):
        raise InsufficientCapacity("potions", now.total_potions, now.potion_limit)
    if now.total_ml > max(now.ml_limit, before.total_ml):
        raise InsufficientCapacity("ml", now.total_ml, now.ml_limit)
