"""The shop's decisions, each a pure function of its balances and a `Forecast` of its market (domain.market):

- the shelf: which potions (at most six) to show and at what price, once a tick;
- bottling: each shelf potion in proportion to its forecast demand until the next bottling, plus a safety stock,
  and nothing for demand after the game's week;
- barrels: the liquid that forecast use needs over the next ticks, at the least gold that covers it (a bigger barrel
  that overshoots wins when the rest will be used before the week ends), never more than the rest of the week uses;
- capacity: only when its forecast gain before the week ends pays for it.

The contract's rules are the floor: never spend gold or space the shop does not have, only offered skus, quantities
within what is offered.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from domain.inventory import Inventory
from domain.ledger import CAPACITY_UNIT_PRICE, ML_PER_CAPACITY_UNIT
from domain.market import TRIAL, Forecast, price_test, single_colour
from domain.potions import CATALOG_SIZE, COLOURS, ML_PER_POTION, Barrel, Potion, PotionType

MAX_BOTTLES_PER_MIX = 10_000  # the contract's bound on one PotionMix quantity
MIN_PRICE, MAX_PRICE = 1, 500  # the contract's bounds on a catalog price
# The price levels the shop asks: 5 % apart, near what sells at the exchange (other shops ask 30-50 a potion): from
# well below the cheapest rival to twice the dearest.
PRICE_GRID = tuple(sorted({round(25 * 1.05**k) for k in range(29)}))  # 25 .. 98 gold
ON_HAND = 1.25  # what a potion on hand is worth on the shelf against one that must be bottled first
TRIAL_BATCH = 2  # potions bottled of one shown to few visitors yet
BOTTLING_EVERY = 2  # ticks between two bottlings (the exchange bottles every other tick)
SAFETY = 1.8  # stock bottled against forecast demand until the next bottling (x), and one more of each
FILL = 4  # the most a shelf potion is filled to, as a multiple of its target, when ml and space are left
BARREL_TICKS = 8  # how far ahead barrels are bought: long enough for a MEDIUM barrel's 2,500 ml to get used
BARREL_SAFETY = 1.2
DEAR_BARREL = 1.5  # a barrel dearer per ml than this times the usual is bought only to avoid running out,
LIQUID_SHARE = 0.6  # and only while its liquid costs at most this share of the price a potion fetches,
IDLE = 1.0  # unless the shop has next to nothing to sell (fewer potions than this forecast to sell in IDLE_TICKS)
IDLE_TICKS = 4
POOR = 250  # gold below which the shop cannot stock a MEDIUM barrel: it shows single colours only
PAYBACK = 1.25  # capacity must earn this many times its price before the week ends


# --- the shelf -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shelf:
    """What the catalog shows this tick: the chosen potions in order, and the price of every potion."""

    chosen: tuple[str, ...]
    prices: Mapping[str, int]


def on_shelf(potions: Sequence[Potion], stock: Mapping[str, int], shelf: Shelf | None) -> list[Potion]:
    """What the catalog shows: up to six potions in stock, the shelf's chosen ones first in its order, then the most
    plentiful others (then by sku); each at the shelf's price (its list price where no shelf was chosen yet)."""
    chosen = {sku: n for n, sku in enumerate(shelf.chosen)} if shelf else {}
    in_stock = [p for p in potions if stock.get(p.sku, 0) > 0]
    ordered = sorted(in_stock, key=lambda p: (chosen.get(p.sku, CATALOG_SIZE), -stock[p.sku], p.sku))
    prices = shelf.prices if shelf else {}
    return [replace(p, price=prices.get(p.sku, p.price)) for p in ordered[:CATALOG_SIZE]]


def available_colours(forecast: Forecast, inventory: Inventory) -> set[str]:
    """Colours the shop has (a potion's worth) or can buy (offered in one of the last two offer rounds); every colour
    before any offer was seen."""
    rounds = [t.offers for t in forecast.history.ticks if t.offers][-2:]
    if not rounds:
        return set(COLOURS)
    offered = {c for offers in rounds for b in offers if b.quantity > 0 for c, f in zip(COLOURS, b.potion_type) if f}
    return offered | {c for c in COLOURS if inventory.ml.get(c, 0) >= ML_PER_POTION}


def plan_shelf(forecast: Forecast, inventory: Inventory) -> Shelf:
    """This tick's price level (the base, moved a step as the price tests say unless the shop is poor, and tested
    up or down on some ticks) and the potions that earn most per visitor at it: for each class, the potion it buys
    most profitably on the shelf, plus its second as far as carts of that class hold two. Optimistic about potions
    a class has seen little of, so each gets tried."""
    now = forecast.history.now
    test = price_test(now.day, now.hour) if now else 1.0
    dearest = max((forecast.unit_cost(p) for p in forecast.potions), default=0.0)
    base = forecast.base_price()
    if inventory.gold < POOR and base is not None:  # while poor, the price tests are too thin to move on
        best = round(base)
    else:
        best = forecast.price_level([p for p in PRICE_GRID if p >= 1.5 * dearest])
    level = min(max(round(best * test), MIN_PRICE), MAX_PRICE)
    colours = available_colours(forecast, inventory)
    makeable = [p for p in forecast.potions if all(c in colours for c, pct in _parts(p.potion_type) if pct)]
    if inventory.gold < POOR:  # blends want two barrels: while poor, the shop explores single colours
        makeable = [p for p in makeable if max(p.potion_type.as_list()) == ML_PER_POTION] or makeable
    shares = forecast.class_shares()
    value = {  # potions on hand sell without another barrel: they are worth a little more
        (kind, p.sku): forecast.optimistic_rate(kind, p)
        * (level - forecast.unit_cost(p))
        * (ON_HAND if inventory.potions.get(p.sku, 0) > 0 else 1.0)
        for kind in shares
        for p in makeable
    }

    def worth(chosen: Sequence[Potion]) -> float:
        total = 0.0
        for kind, share in shares.items():
            ranked = sorted((value[kind, p.sku] for p in chosen), reverse=True) + [0.0, 0.0]
            total += share * (ranked[0] + forecast.second_lines.get(kind, 0.5) * ranked[1])
        return total

    def simpler(p: Potion) -> tuple[int, list[int], str]:
        """On a tie (nothing known yet): fewer colours first, then the colours in the contract's order (red first,
        as the course's shops start)."""
        parts = p.potion_type.as_list()
        return (sum(1 for x in parts if x), [-x for x in parts], p.sku)

    chosen: list[Potion] = []
    for _ in range(min(CATALOG_SIZE, len(makeable))):
        rest = sorted((p for p in makeable if p not in chosen), key=simpler)
        chosen.append(max(rest, key=lambda p: worth([*chosen, p])))
    improved = True
    while improved:  # swap one in for one out while that earns more
        improved = False
        for i in range(len(chosen)):
            for p in sorted((p for p in makeable if p not in chosen), key=simpler):
                trial = [*chosen[:i], p, *chosen[i + 1 :]]
                if worth(trial) > worth(chosen) + 1e-9:
                    chosen, improved = trial, True
                    break
            if improved:
                break
    return Shelf(tuple(p.sku for p in chosen), {p.sku: level for p in forecast.potions})


def _parts(potion_type: PotionType) -> list[tuple[str, int]]:
    return list(zip(COLOURS, potion_type.as_list()))


# --- bottling ---------------------------------------------------------------------------------------------------------


def bottling_targets(forecast: Forecast, chosen: Sequence[Potion]) -> dict[str, int]:
    """Potions of each shelf potion to hold after bottling: forecast demand until the next bottling with a safety
    stock; near the end of the week, just what the ticks left will sell."""
    left = forecast.history.remaining
    cover = min(BOTTLING_EVERY, left)
    ending = left <= cover + BOTTLING_EVERY
    targets = {}
    for p in chosen:
        target = math.ceil(forecast.demand(p, cover) * (1.2 if ending else SAFETY) + (0 if ending else 1))
        targets[p.sku] = target if forecast.exposed(p) >= TRIAL else min(target, TRIAL_BATCH)
    return targets


def plan_bottling(forecast: Forecast, inventory: Inventory, chosen: Sequence[Potion]) -> list[tuple[PotionType, int]]:
    """Potions to bottle from ml on hand into free space: first towards each shelf potion's target; then, since
    the liquid is bought already and a sold-out shelf loses sales the forecast never sees, on towards FILL times
    its target, never past what the rest of the week will sell (a potion still on trial stays at its trial
    batch). Where ml or space fall short, each potion gets the same share of what it wants."""
    targets = bottling_targets(forecast, chosen)
    left = forecast.history.remaining
    held = {p.sku: inventory.potions.get(p.sku, 0) for p in chosen}
    fill = {
        p.sku: min(math.ceil(forecast.demand(p, left)), targets[p.sku] * FILL)
        if forecast.exposed(p) >= TRIAL
        else targets[p.sku]
        for p in chosen
    }
    ml = {c: inventory.ml.get(c, 0) for c in COLOURS}
    planned: Counter[str] = Counter()
    space = inventory.free_potion_space
    for goal in (targets, fill):
        wants = {p.sku: max(goal[p.sku] - held[p.sku] - planned[p.sku], 0) for p in chosen}
        space = _pour(chosen, wants, ml, space, planned)
    return [(p.potion_type, planned[p.sku]) for p in chosen if planned[p.sku] > 0]


def _pour(
    chosen: Sequence[Potion], wants: dict[str, int], ml: dict[str, int], space: int, planned: Counter[str]
) -> int:
    """Bottle towards `wants` (sku -> potions) from `ml` into `space`, adding to `planned` and taking from `ml`:
    every potion the same share of what it wants while ml and space allow, the remainder one each in turn (the
    furthest from its want first). Returns the space left. A few passes whatever the quantities."""
    wants = {sku: min(n, MAX_BOTTLES_PER_MIX - planned[sku]) for sku, n in wants.items()}
    by_sku = {p.sku: p for p in chosen}

    def makeable(sku: str) -> bool:
        return wants[sku] > 0 and all(ml[c] >= pct for c, pct in _parts(by_sku[sku].potion_type))

    def take(sku: str, n: int) -> None:
        nonlocal space
        for c, pct in _parts(by_sku[sku].potion_type):
            ml[c] -= pct * n
        planned[sku] += n
        wants[sku] -= n
        space -= n

    while space > 0 and (active := [sku for sku in wants if makeable(sku)]):
        total = sum(wants[sku] for sku in active)
        share = min(1.0, space / total)
        for c in COLOURS:
            use = sum(wants[sku] * dict(_parts(by_sku[sku].potion_type))[c] for sku in active)
            if use:
                share = min(share, ml[c] / use)
        taken = {sku: int(wants[sku] * share) for sku in active}
        if any(taken.values()):
            for sku, n in taken.items():
                take(sku, n)
            continue
        for sku in sorted(active, key=lambda k: (-wants[k], k)):  # too little for a share each: one each in turn
            if space > 0 and makeable(sku):
                take(sku, 1)
    return space


# --- barrels ----------------------------------------------------------------------------------------------------------


def _ml_wanted(
    forecast: Forecast, inventory: Inventory, chosen: Sequence[Potion], ticks: int, safety: float
) -> dict[str, int]:
    """ml of each colour the shelf potions need over `ticks` ticks beyond the potions and ml on hand."""
    need: Counter[str] = Counter()
    for p in chosen:
        potions = max(math.ceil(forecast.demand(p, ticks) * safety) - inventory.potions.get(p.sku, 0), 0)
        need.update(p.potion_type.ml(potions))
    return {c: need[c] - inventory.ml.get(c, 0) for c in COLOURS}


def plan_barrels(
    forecast: Forecast, inventory: Inventory, offers: Sequence[Barrel], chosen: Sequence[Potion]
) -> list[tuple[str, int]]:
    """Barrels to buy: for each colour the shelf needs over the next BARREL_TICKS (in the order of the shelf's
    ranking), the barrels of that colour that cover the need for the least gold, counting ml beyond the need at
    what it would cost later as long as the rest of the week will use it; while gold cannot cover a need, as much
    ml as it buys. A barrel dearer per ml than DEAR_BARREL times the usual only while gold cannot buy a cheaper one
    and the shelf would run out of the colour before the next round, and none whose liquid eats more than
    LIQUID_SHARE of a potion's price unless the shop has nothing to sell and no gold for better. Never more gold,
    space or barrels than there are."""
    left = forecast.history.remaining
    soon = _ml_wanted(forecast, inventory, chosen, min(BARREL_TICKS, left), BARREL_SAFETY)
    week = _ml_wanted(forecast, inventory, chosen, left, 1.0)
    urgent = _ml_wanted(forecast, inventory, chosen, min(BOTTLING_EVERY, left), 1.0)
    gold, space = inventory.gold, inventory.free_ml_space
    idle = _sellable(forecast, inventory, IDLE_TICKS) < IDLE
    fetches = _level(forecast)
    plan: Counter[str] = Counter()
    for colour in sorted((c for c in COLOURS if soon[c] > 0), key=lambda c: (_first_use(chosen, c), -soon[c], c)):
        usual = forecast.ml_cost[colour]
        pure = [b for b in offers if b.quantity > 0 and b.ml_per_barrel > 0 and single_colour(b) == colour]
        cheap = [b for b in pure if b.price <= DEAR_BARREL * usual * b.ml_per_barrel]
        # dear barrels only while gold cannot buy a cheap one, and only to keep the shelf from running out
        dear = urgent[colour] > 0 and not any(b.price <= gold for b in cheap)
        dearest = min(usual * (math.inf if dear else DEAR_BARREL), LIQUID_SHARE * fetches / 100)
        good = [b for b in pure if b.price <= dearest * b.ml_per_barrel]
        if idle and not plan and not any(b.price <= gold for b in good):
            good = pure  # the only way to have something to sell
        useful = max(week[colour], soon[colour])
        bought = _cheapest_cover(good, soon[colour], useful, forecast.ml_cost[colour], gold, space)
        for barrel, k in bought:
            plan[barrel.sku] += k
            gold -= barrel.price * k
            space -= barrel.ml_per_barrel * k
    return [(sku, k) for sku, k in plan.items() if k > 0]


def _first_use(chosen: Sequence[Potion], colour: str) -> int:
    """The rank on the shelf of the first potion that uses `colour` (the shelf ranks what earns most first)."""
    return next((n for n, p in enumerate(chosen) if dict(_parts(p.potion_type))[colour]), len(chosen))


def _sellable(forecast: Forecast, inventory: Inventory, ticks: int) -> float:
    """Potions on hand (or in the ml on hand) forecast to sell over the next `ticks` ticks."""
    can_make = {
        p.sku: inventory.potions.get(p.sku, 0)
        + min((inventory.ml.get(c, 0) // pct for c, pct in _parts(p.potion_type) if pct), default=0)
        for p in forecast.potions
    }
    return sum(min(n, forecast.demand(p, ticks)) for p in forecast.potions if (n := can_make[p.sku]))


def _most(barrel: Barrel, need: int, gold: int, space: int) -> int:
    """The most barrels of one offer worth trying towards `need`: one past covering it, within what is offered and
    what gold and space allow."""
    affordable = gold // barrel.price if barrel.price else barrel.quantity
    return min(barrel.quantity, space // barrel.ml_per_barrel, affordable, need // barrel.ml_per_barrel + 2)


def _cheapest_cover(
    offers: Sequence[Barrel], need: int, useful: int, ml_cost: float, gold: int, space: int
) -> list[tuple[Barrel, int]]:
    """The barrels (of one colour) to buy for a need of `need` ml: of the mixes that cover it, the one that costs
    least once ml beyond the need (up to `useful`) is credited at `ml_cost`; if none covers it within `gold`, the
    one that brings most ml (then costs least). Never past `gold`, `space` or `useful` plus a barrel's slack."""
    offers = sorted(offers, key=lambda b: (-b.ml_per_barrel, b.price, b.sku))[:4]
    ranges = [range(_most(b, need, gold, space) + 1) for b in offers]
    best: tuple[float, ...] | None = None
    choice: tuple[int, ...] = ()
    for counts in itertools.product(*ranges):
        ml = sum(b.ml_per_barrel * k for b, k in zip(offers, counts))
        cost = sum(b.price * k for b, k in zip(offers, counts))
        if not ml or cost > gold or ml > space or ml > max(useful, need) + ML_PER_POTION * 5:
            continue
        covers = ml >= need
        credit = min(ml - need, max(useful - need, 0)) * ml_cost * 0.9 if covers else 0.0
        key = (0, cost - credit, -ml) if covers else (1, -ml, cost)
        if best is None or key < best:
            best, choice = key, counts
    return [(b, k) for b, k in zip(offers, choice) if k]


# --- capacity ---------------------------------------------------------------------------------------------------------


def plan_capacity(forecast: Forecast, inventory: Inventory, chosen: Sequence[Potion]) -> tuple[int, int]:
    """Capacity units to buy (potion, ml), one of a kind a day at most, each only if what it earns before the week
    ends pays for it PAYBACK times, and only out of gold the next day's barrels do not need:
    - a potion unit earns the sales a full shelf would lose between two bottlings;
    - an ml unit earns what LARGE barrels save over the usual ml price, when today's space cannot take one."""
    left = forecast.history.remaining
    future = forecast.future(left)
    spare = inventory.gold - sum(forecast.demand(p, BARREL_TICKS) * forecast.unit_cost(p) for p in chosen)
    potion_units = ml_units = 0
    if spare >= CAPACITY_UNIT_PRICE and chosen:
        per_visitor = {p.sku: sum(s * forecast.rate(k, p) for k, s in forecast.class_shares().items()) for p in chosen}
        level = _level(forecast)
        margin = {p.sku: level - forecast.unit_cost(p) for p in chosen}
        lost = 0.0
        for i in range(0, len(future) - 1, BOTTLING_EVERY):
            visitors = sum(forecast.visitors_at(d, h) for d, h in future[i : i + BOTTLING_EVERY])
            sold = {sku: r * visitors for sku, r in per_visitor.items()}
            over = sum(sold.values()) - inventory.potion_limit
            if over > 0:
                lost += over * sum(sold[s] * margin[s] for s in sold) / max(sum(sold.values()), 1e-9)
        if lost >= PAYBACK * CAPACITY_UNIT_PRICE:
            potion_units, spare = 1, spare - CAPACITY_UNIT_PRICE
    large = _large_ml_cost(forecast)
    if spare >= CAPACITY_UNIT_PRICE and large and inventory.free_ml_space < ML_PER_CAPACITY_UNIT:
        rounds = [t for t in forecast.history.ticks if t.offers]
        share = sum(1 for t in rounds if any(b.ml_per_barrel >= ML_PER_CAPACITY_UNIT for b in t.offers)) / len(rounds)
        week = _ml_wanted(forecast, inventory, chosen, left, 1.0)
        saved = 0.0
        for colour, cost in large.items():
            usable = min(max(week[colour], 0), share * (left / BOTTLING_EVERY) * ML_PER_CAPACITY_UNIT)
            saved += max(forecast.ml_cost[colour] - cost, 0) * (usable // ML_PER_CAPACITY_UNIT) * ML_PER_CAPACITY_UNIT
        if saved >= PAYBACK * CAPACITY_UNIT_PRICE:
            ml_units = 1
    return potion_units, ml_units


def _level(forecast: Forecast) -> float:
    now = forecast.history.now
    level = now.price_level if now else None
    return level if level is not None else float(forecast.price_level(PRICE_GRID))


def _large_ml_cost(forecast: Forecast) -> dict[str, float]:
    """Per colour, the gold per ml of the cheapest barrel of a whole capacity unit (a LARGE) ever offered."""
    costs: dict[str, float] = {}
    for tick in forecast.history.ticks:
        for b in tick.offers:
            if b.ml_per_barrel >= ML_PER_CAPACITY_UNIT and (c := single_colour(b)) and b.quantity > 0:
                costs[c] = min(costs.get(c, math.inf), b.price / b.ml_per_barrel)
    return costs
