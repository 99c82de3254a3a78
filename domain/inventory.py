"""The shop's inventory as a shopkeeper reads it, and the checks a transaction must pass against the balances
before it is posted: no shop balance below zero, no stock beyond capacity. Plain values in, plain values out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from domain.errors import InsufficientCapacity, InsufficientGold, InsufficientMl, InsufficientStock
from domain.ledger import (
    GOLD,
    ML,
    ML_CAPACITY,
    ML_PER_CAPACITY_UNIT,
    POTION_CAPACITY,
    POTION_PREFIX,
    POTIONS_PER_CAPACITY_UNIT,
    SHOP,
    AccountRef,
    Transaction,
)
from domain.potions import COLOURS


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


def touches_capacity(txn: Transaction) -> bool:
    """Whether the capacity rule can refuse `txn`: it adds potions or ml to the shop, or takes capacity away. Only
    then does checking it need every shop balance; otherwise the balances of the accounts it moves suffice."""
    for account, change in txn.changes().items():
        if account.owner != SHOP:
            continue
        stock = account.commodity in ML.values() or account.commodity.startswith(POTION_PREFIX)
        if (stock and change > 0) or (account.commodity in (POTION_CAPACITY, ML_CAPACITY) and change < 0):
            return True
    return False


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
