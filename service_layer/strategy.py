"""What the shop's planner decided, on which data, and what it earned: a read-only use case over the records the
planner learns from (`domain.market`), as plain data for `cauldrons report` to render."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from typing import Any

from domain import ledger
from domain.clock import day_index
from domain.inventory import Inventory
from domain.market import Forecast, Tick
from domain.potions import COLOURS, Potion
from service_layer.unit_of_work import AbstractUnitOfWork

FAVOURITES = 2  # potions named as a class's favourites


def strategy(uow: AbstractUnitOfWork) -> dict[str, Any]:
    """The game since the last reset, as the planner saw it:

    - `days`: per game day, oldest first (`game_days`): its week, its ticks, the price levels the shelf asked (min,
      median and max of the ticks' levels; None if nothing was shown), the potions the visits were shown (sku ->
      ticks), visitors by class, potions sold and the gold they brought;
    - `classes`: per class of visitor, most visitors first: visitors, share of all visitors, potions bought, its
      favourite potions (the FAVOURITES highest `Forecast.rate`s, once it bought something), its taste centre (the
      mean recipe of what it bought, percent per colour) and how far its carts hold a second line (0..1);
    - `ml_cost`: the gold per ml of each colour the planner counts on;
    - `price_level`: the base price level of the latest priced tick (None before any);
    - `shelf`: the current shelf's chosen potions, in its order, with their prices;
    - `balances`: the shop's gold, ml per colour and potions held."""
    with uow:
        potions = uow.potions.list()
        history = uow.market.records().history()
        shelf = uow.shelf.current()
        held = Inventory.from_balances(uow.ledger.balances(ledger.SHOP))
    forecast = Forecast.of(history, potions)
    return {
        "days": [{**_day(ticks), "week": week} for week, ticks in game_days(history.ticks)],
        "classes": _classes(forecast, potions),
        "ml_cost": {c: forecast.ml_cost[c] for c in COLOURS},
        "price_level": forecast.base_price(),
        "shelf": [{"sku": sku, "price": shelf.prices.get(sku)} for sku in shelf.chosen] if shelf else [],
        "balances": {
            "gold": held.gold,
            "ml": {c: held.ml.get(c, 0) for c in COLOURS},
            "potions": {sku: n for sku, n in sorted(held.potions.items()) if n},
        },
    }


def game_days(ticks: Sequence[Tick]) -> list[tuple[int, list[Tick]]]:
    """The ticks by game day, oldest first, each with its week (1 for the first): ticks in a row on the same day
    of the week (by `day_index`, whichever spelling the exchange sent) are one day, and a day that is not later in
    the week than the one before it starts a new week. A day not in the week is a day of its own."""
    days: list[tuple[int, list[Tick]]] = []
    for tick in ticks:
        if days and _same_day(tick.day, days[-1][1][-1].day):
            days[-1][1].append(tick)
            continue
        week = days[-1][0] if days else 1
        before = next((i for _, day in reversed(days) if (i := day_index(day[0].day)) is not None), None)
        if (now := day_index(tick.day)) is not None and before is not None and now <= before:
            week += 1
        days.append((week, [tick]))
    return days


def _same_day(day: str, other: str) -> bool:
    index = day_index(day)
    return index == day_index(other) if index is not None else day == other


def _day(ticks: Sequence[Tick]) -> dict[str, Any]:
    levels = [level for t in ticks if (level := t.price_level) is not None]
    visitors: Counter[str] = Counter()
    shown: Counter[str] = Counter()
    for t in ticks:
        visitors.update(t.visitors)
        shown.update(t.shown.keys())
    return {
        "day": ticks[0].day,
        "ticks": len(ticks),
        "price_level": (
            {"min": min(levels), "median": float(statistics.median(levels)), "max": max(levels)} if levels else None
        ),
        "shown": dict(sorted(shown.items(), key=lambda kv: (-kv[1], kv[0]))),
        "visitors": dict(sorted(visitors.items(), key=lambda kv: (-kv[1], kv[0]))),
        "potions_sold": sum(s.units for t in ticks for s in t.sold.values()),
        "gold": sum(s.gold for t in ticks for s in t.sold.values()),
    }


def _classes(forecast: Forecast, potions: Sequence[Potion]) -> list[dict[str, Any]]:
    shares = forecast.class_shares()
    rows = []
    buyers = {kind for kind, bought in forecast.units.items() if sum(bought.values())}
    kinds = sorted(set(forecast.class_visitors) | buyers, key=lambda kind: (-forecast.class_visitors[kind], kind))
    for kind in kinds:
        learned = kind in forecast.taste  # it bought something: its rates are more than the prior
        ranked = sorted(potions, key=lambda p: (-forecast.rate(kind, p), p.sku))[:FAVOURITES] if learned else []
        rows.append(
            {
                "class": kind,
                "visitors": forecast.class_visitors[kind],
                "share": shares.get(kind, 0.0),
                "bought": sum(forecast.units[kind].values()),
                "favourites": [{"sku": p.sku, "rate": forecast.rate(kind, p)} for p in ranked],
                "taste": list(forecast.taste[kind][0]) if learned else None,
                "second_lines": forecast.second_lines.get(kind),
            }
        )
    return rows
