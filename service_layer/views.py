"""Read-only use cases: catalog, audit and the three plans. They return plain data and never write."""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from domain import ledger, planners
from domain.potions import Barrel, line_up
from service_layer.unit_of_work import AbstractUnitOfWork

MAX_CATALOG_QUANTITY = 10_000


def _inventory(uow: AbstractUnitOfWork) -> ledger.Inventory:
    return ledger.Inventory.from_balances(uow.ledger.balances(ledger.SHOP))


def catalog(uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    """Up to six potions in stock, the most plentiful first."""
    with uow:
        stock, potions = _inventory(uow).potions, uow.potions.list()
    return [{"sku": p.sku, "name": p.name, "quantity": min(stock[p.sku], MAX_CATALOG_QUANTITY), "price": p.price,
             "potion_type": p.potion_type.as_list()} for p in line_up(potions, stock)]


def audit(uow: AbstractUnitOfWork) -> dict[str, int]:
    with uow:
        inventory = _inventory(uow)
    return {"number_of_potions": inventory.total_potions, "ml_in_barrels": inventory.total_ml,
            "gold": inventory.gold}


def barrel_plan(offers: Sequence[Barrel], uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        inventory, potions = _inventory(uow), uow.potions.list()
    return [{"sku": sku, "quantity": k} for sku, k in planners.plan_barrels(inventory, offers, potions)]


def bottler_plan(uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        inventory, potions = _inventory(uow), uow.potions.list()
    return [{"potion_type": t.as_list(), "quantity": k} for t, k in planners.plan_bottling(inventory, potions)]


def capacity_plan(uow: AbstractUnitOfWork) -> dict[str, int]:
    with uow:
        potion_units, ml_units = planners.plan_capacity(_inventory(uow))
    return {"potion_capacity": potion_units, "ml_capacity": ml_units}
