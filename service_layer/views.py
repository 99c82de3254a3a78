"""Read-only use cases: catalog, audit, the three plans, the ledger's history, order search and the metrics. They
return plain data and never write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from domain import ledger, planners
from domain.clock import utcnow
from domain.inventory import Inventory
from domain.market import Forecast
from domain.metrics import Metric, MetricsQuery
from domain.potions import Potion
from domain.sales import PAGE_SIZE, Cursor, SearchPage, SearchQuery
from service_layer.unit_of_work import AbstractUnitOfWork

MAX_CATALOG_QUANTITY = 10_000


def _inventory(uow: AbstractUnitOfWork, at: datetime | None = None) -> Inventory:
    return Inventory.from_balances(uow.ledger.balances(ledger.SHOP, at=at))


def catalog(uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    """Up to six potions in stock, the shelf's chosen ones first, at the shelf's prices."""
    with uow:
        return catalog_items(uow)


def catalog_items(uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    """`catalog`, inside a unit of work already open."""
    stock = _inventory(uow).potions
    return [
        {
            "sku": p.sku,
            "name": p.name,
            "quantity": min(stock[p.sku], MAX_CATALOG_QUANTITY),
            "price": p.price,
            "potion_type": p.potion_type.as_list(),
        }
        for p in planners.on_shelf(uow.potions.list(), stock, uow.shelf.current())
    ]


def audit(at: datetime | None, uow: AbstractUnitOfWork) -> dict[str, int]:
    """The shop's totals now, or as they were at `at` (naive UTC)."""
    with uow:
        inventory = _inventory(uow, at)
    return {"number_of_potions": inventory.total_potions, "ml_in_barrels": inventory.total_ml, "gold": inventory.gold}


@dataclass(frozen=True)
class Situation:
    """What a plan is made from: the forecast of the game so far, the balances, and the potions the shelf shows."""

    forecast: Forecast
    inventory: Inventory
    chosen: list[Potion]


def forecast(uow: AbstractUnitOfWork) -> tuple[Forecast, Inventory]:
    """What the planners learn from the game so far, and the balances, inside a unit of work already open."""
    return Forecast.of(uow.market.records().history(), uow.potions.list()), _inventory(uow)


def situation(uow: AbstractUnitOfWork) -> Situation:
    """The `Situation` now, inside a unit of work already open; the shelf is planned afresh if no tick has one."""
    learnt, inventory = forecast(uow)
    shelf = uow.shelf.current() or planners.plan_shelf(learnt, inventory)
    by_sku = {p.sku: p for p in learnt.potions}
    return Situation(learnt, inventory, [by_sku[sku] for sku in shelf.chosen if sku in by_sku])


def bottler_plan(uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    with uow:
        now = situation(uow)
    plan = planners.plan_bottling(now.forecast, now.inventory, now.chosen)
    return [{"potion_type": t.as_list(), "quantity": k} for t, k in plan]


def capacity_plan(uow: AbstractUnitOfWork) -> dict[str, int]:
    with uow:
        now = situation(uow)
    potion_units, ml_units = planners.plan_capacity(now.forecast, now.inventory, now.chosen)
    return {"potion_capacity": potion_units, "ml_capacity": ml_units}


def moment(at: datetime) -> str:
    """Naive UTC -> ISO 8601 with a Z."""
    return at.isoformat(timespec="microseconds") + "Z"


def accounts(at: datetime | None, uow: AbstractUnitOfWork) -> dict[str, Any]:
    """Every account with its balance, now or as it was at `at`."""
    with uow:
        balances = uow.ledger.balances(at=at)
    return {
        "as_of": moment(at or utcnow()),
        "accounts": [
            {"account": str(ref), "owner": ref.owner, "commodity": ref.commodity, "balance": balance}
            for ref, balance in sorted(balances.items())
        ],
    }


@dataclass(frozen=True)
class HistoryQuery:
    """Which transactions to list: touching `account` ("owner/commodity"), made in [since, until], after `cursor`
    (a `next_cursor` from the page before), `limit` to a page."""

    account: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    cursor: str | None = None
    limit: int = 50


def transactions(query: HistoryQuery, uow: AbstractUnitOfWork) -> dict[str, Any]:
    """A page of history, newest first; `next_cursor` fetches the page after it (None on the last page)."""
    with uow:
        page = uow.ledger.history(
            ledger.AccountRef.parse(query.account) if query.account else None,
            query.since,
            query.until,
            int(query.cursor) if query.cursor else None,
            query.limit + 1,
        )
    more, page = len(page) > query.limit, page[: query.limit]
    return {"transactions": [_posted(p) for p in page], "next_cursor": str(page[-1].id) if more else None}


def _posted(p: ledger.PostedTransaction) -> dict[str, Any]:
    return {
        "id": p.id,
        "created_at": moment(p.created_at),
        "kind": p.kind,
        "description": p.description,
        "game_time": {"day": p.game_time.day, "hour": p.game_time.hour} if p.game_time else None,
        "request": {"route": p.request_route, "key": p.request_key} if p.request_key is not None else None,
        "entries": [
            {"account": str(e.account), "change": e.change, "balance_after": e.balance_after} for e in p.entries
        ],
    }


def search_orders(query: SearchQuery, cursor: Cursor | None, uow: AbstractUnitOfWork) -> SearchPage:
    """One page of the lines sold that match `query`, in its order: the first page without a cursor, else the page
    after (or before) the cursor's position, with cursors to the pages either side (None where there is none)."""
    backward = cursor is not None and cursor.backward
    with uow:
        found = uow.sales.search(query, cursor, PAGE_SIZE + 1)
    more, results = len(found) > PAGE_SIZE, found[:PAGE_SIZE]
    if backward:
        results.reverse()
    if not results:
        return SearchPage([], None, None)
    first, last = Cursor(query.position(results[0]), backward=True), Cursor(query.position(results[-1]))
    # Lines are never removed, so the cursor's own line is still there on the side we came from.
    if backward:
        return SearchPage(results, first if more else None, last)
    return SearchPage(results, first if cursor is not None else None, last if more else None)


def metric(name: Metric, query: MetricsQuery, uow: AbstractUnitOfWork) -> dict[str, Any]:
    """One metric's rows over the part of the history `query` names; wall times as ISO 8601 with a Z."""
    with uow:
        rows = uow.metrics.rows(name, query)
    return {
        "metric": str(name),
        "rows": [{k: moment(v) if isinstance(v, datetime) else v for k, v in row.items()} for row in rows],
    }
