"""What to buy and what to bottle: pure functions of the shop's balances and what is on offer.

The contract's rules are the floor (never spend gold or space the shop does not have, only offered skus, quantities
within what is offered); the aim is a shop that keeps a mix of colours on hand and potions of every kind in stock.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

from domain.inventory import Inventory
from domain.ledger import CAPACITY_UNIT_PRICE
from domain.potions import CATALOG_SIZE, COLOURS, ML_PER_POTION, Barrel, Potion, PotionType, line_up

MAX_CAPACITY_UNITS_PER_ORDER = 10
MAX_BOTTLES_PER_MIX = 10_000  # the contract's bound on one PotionMix quantity
CAPACITY_GOLD_RESERVE = 500  # gold kept back from capacity purchases so the next barrels can be bought


def colour_weights(potions: Sequence[Potion]) -> dict[str, int]:
    """How much each colour is used across the recipes the shop sells (0: never needed)."""
    weights = Counter({c: 0 for c in COLOURS})
    for p in potions:
        weights.update(dict(zip(COLOURS, p.potion_type.as_list())))
    return dict(weights)


def _barrels_towards(deficit: int, ml: int) -> int:
    """How many barrels of `ml` to buy towards a `deficit`: enough to cover it if that overshoots by less than the
    deficit itself (so one MEDIUM barrel may fill a gap of 2,000 ml, at half the price per ml of four SMALL ones),
    otherwise as many as fit in it."""
    if deficit <= 0:
        return 0
    covering = -(-deficit // ml)
    return covering if covering * ml <= 2 * deficit else deficit // ml


@dataclass
class _BarrelOrder:
    """An order being filled: what is still offered, the gold and space left, each colour's deficit, and what was
    bought (offer index -> barrels)."""

    offers: Sequence[Barrel]
    gold: int
    space: int
    deficit: dict[str, int]
    left: dict[int, int] = field(default_factory=dict)
    bought: Counter[int] = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.left = {i: offer.quantity for i, offer in enumerate(self.offers)}

    def buy(self, colour: str, budget: int) -> None:
        """Buy barrels that are mostly `colour`, best ml per gold first, within `budget` and the gold left."""
        budget = min(budget, self.gold)
        mostly_colour = [
            i
            for i, o in enumerate(self.offers)
            if o.ml_per_barrel and max(range(4), key=lambda k: o.potion_type[k]) == COLOURS.index(colour)
        ]
        mostly_colour.sort(
            key=lambda i: (-self.offers[i].ml(1)[colour] / max(self.offers[i].price, 1e-9), self.offers[i].sku)
        )
        for i in mostly_colour:
            offer = self.offers[i]
            per_barrel = offer.ml(1)
            limits = [self.left[i], self.space // offer.ml_per_barrel]
            if offer.price:
                limits.append(budget // offer.price)
            limits += [_barrels_towards(self.deficit[c], n) for c, n in per_barrel.items() if n]
            k = max(min(limits), 0)
            if not k:
                continue
            self.bought[i] += k
            self.left[i] -= k
            budget -= k * offer.price
            self.gold -= k * offer.price
            self.space -= k * offer.ml_per_barrel
            for c, n in per_barrel.items():
                self.deficit[c] -= k * n

    def plan(self) -> list[tuple[str, int]]:
        by_sku: Counter[str] = Counter()
        for i, k in self.bought.items():
            by_sku[self.offers[i].sku] += k
        return [(sku, k) for sku, k in by_sku.items() if k > 0]


def plan_barrels(inventory: Inventory, offers: Sequence[Barrel], potions: Sequence[Potion]) -> list[tuple[str, int]]:
    """Barrels to buy: fill each needed colour towards its share of the ml worth holding, cheapest ml first.

    Gold is split between colours in proportion to how far each is below its share; gold a colour could not use
    goes to the colour furthest behind. Never exceeds gold, free ml space, or the quantity offered.
    """
    weights = colour_weights(potions)
    total_weight = sum(weights.values())
    if not total_weight or not offers:
        return []
    # Enough ml to refill the empty shelf space once, plus half a shelf in reserve: gold sunk in ml that cannot be
    # bottled earns nothing.
    wanted_ml = min(inventory.ml_limit, (inventory.free_potion_space + inventory.potion_limit // 2) * ML_PER_POTION)
    target = {c: wanted_ml * weights[c] // total_weight for c in COLOURS}
    order = _BarrelOrder(
        offers, inventory.gold, inventory.free_ml_space, {c: max(target[c] - inventory.ml[c], 0) for c in COLOURS}
    )
    needy = sorted((c for c in COLOURS if order.deficit[c] > 0), key=lambda c: (-order.deficit[c], c))
    total_deficit = sum(order.deficit[c] for c in needy)
    shares = {c: order.gold * order.deficit[c] // total_deficit for c in needy} if total_deficit else {}
    for colour in needy:
        order.buy(colour, shares[colour])
    for colour in sorted(needy, key=lambda c: (-order.deficit[c], c)):  # leftover gold to whoever is furthest behind
        order.buy(colour, order.gold)
    return order.plan()


def plan_bottling(inventory: Inventory, potions: Sequence[Potion]) -> list[tuple[PotionType, int]]:
    """Potions to bottle from ml on hand into free potion space, always topping up the scarcest potion first
    (dearer first on a tie), so the catalog stays varied. Only the six potions the catalog can show are bottled:
    those on offer now, then the dearest others.

    Water-filling, in arithmetic: the scarcest makeable potions are raised together, a whole number of rounds at a
    time (one bottle each per round, in tie order), until they reach the next potion's count or ml, space or the
    10,000-per-mix bound stops them; then one partial round. Each step merges two levels or retires a potion, so the
    work is independent of the quantities planned."""
    on_offer = line_up(potions, inventory.potions)
    others = sorted((p for p in potions if p not in on_offer), key=lambda p: (-p.price, p.sku))
    chosen = (on_offer + others)[:CATALOG_SIZE]
    ml = dict(inventory.ml)
    space = inventory.free_potion_space
    count = {p.sku: inventory.potions.get(p.sku, 0) for p in chosen}
    planned: Counter[str] = Counter()

    def can_make(p: Potion) -> int:
        by_ml = min((ml[c] // pct for c, pct in zip(COLOURS, p.potion_type.as_list()) if pct), default=0)
        return min(by_ml, MAX_BOTTLES_PER_MIX - planned[p.sku])

    def bottle(p: Potion, k: int) -> None:
        nonlocal space
        for colour, n in p.potion_type.ml(k).items():
            ml[colour] -= n
        count[p.sku] += k
        planned[p.sku] += k
        space -= k

    while space > 0:
        makeable = sorted((p for p in chosen if can_make(p) > 0), key=lambda p: (count[p.sku], -p.price, p.sku))
        if not makeable:
            break
        level = count[makeable[0].sku]
        lowest = [p for p in makeable if count[p.sku] == level]
        higher = [count[p.sku] for p in makeable if count[p.sku] > level]
        per_round = Counter[str]()
        for p in lowest:
            per_round.update(p.potion_type.ml(1))
        rounds = min(
            [
                space // len(lowest),
                *(ml[c] // n for c, n in per_round.items() if n),
                *(MAX_BOTTLES_PER_MIX - planned[p.sku] for p in lowest),
            ]
            + ([higher[0] - level] if higher else [])
        )
        if rounds > 0:
            for p in lowest:
                bottle(p, rounds)
            continue
        for p in lowest:  # a partial round: one more each, in tie order, while ml and space last
            if space > 0 and can_make(p) > 0:
                bottle(p, 1)
    by_sku = {p.sku: p for p in chosen}
    return [(by_sku[sku].potion_type, k) for sku, k in planned.items()]


def plan_capacity(inventory: Inventory) -> tuple[int, int]:
    """Capacity units to buy (potion, ml): grow with spare gold, keeping a reserve for barrels and the two kinds
    of capacity level (buy the kind the shop has fewer of)."""
    spare = inventory.gold - CAPACITY_GOLD_RESERVE
    potion_units = ml_units = 0
    while spare >= CAPACITY_UNIT_PRICE:
        potion_total = inventory.potion_capacity_units + potion_units
        ml_total = inventory.ml_capacity_units + ml_units
        if potion_total <= ml_total and potion_units < MAX_CAPACITY_UNITS_PER_ORDER:
            potion_units += 1
        elif ml_units < MAX_CAPACITY_UNITS_PER_ORDER:
            ml_units += 1
        elif potion_units < MAX_CAPACITY_UNITS_PER_ORDER:
            potion_units += 1
        else:
            break
        spare -= CAPACITY_UNIT_PRICE
    return potion_units, ml_units
