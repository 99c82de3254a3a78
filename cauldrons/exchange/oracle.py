"""The oracle: the best FIXED catalog for a whole game, found with perfect knowledge of its shoppers.

Given every visit of a game (`world.shoppers`, the same visits the game served, with all their draws) and the
world's choice rule, the oracle picks at most CATALOG_SIZE recipes from a candidate grid (every four-colour recipe in
25 % steps: 35) and one whole price each (1..500), and scores the week as if stock were perfect: every chosen potion
is on hand, no capacity is bought, and a potion's liquid costs what MEDIUM barrels charge (0.10 gold per ml, blue
0.12; 100 ml a potion). Its gold is STARTING_GOLD + the sum of (price - liquid cost) over every potion sold. The
2026 world's recognition (the chance to look at our catalog grows with our sales to the visitor's class) is
replayed exactly for each candidate catalog.

The search: per shopper, the facts the choice needs are computed once (class, purse, wants, the value of every
candidate recipe to them, rival surplus, the recognition draw as a threshold on earlier sales; in the classic world,
per class, tables of potions taken at every price), so one evaluation scores a catalog for every price of one of
its items at once (numpy). Recipes are added greedily (each with its best price), prices are tuned by coordinate
descent over every whole price, then the best swap (an item for another candidate at its best price), removal or
addition is taken, until none pays (2026 screens these moves on every third price). The search runs from a few
starting catalogs (the greedy one, each class's preferred recipes in the 2026 world, any catalogs the caller
passes); in the classic world the best is then kicked a few times (two items replaced at random, deterministic) and
improved again. The winner is scored once more by `replay`, which runs the world's own `choose` visit by visit.
"""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt

from cauldrons.exchange import classic, world2026
from cauldrons.exchange.world import COLOURS, CatalogItem, Recipe, Visit, World

STARTING_GOLD = 100
CATALOG_SIZE = 6
PRICES = (1, 500)
ML_COST = {"red": 0.10, "green": 0.10, "blue": 0.12, "dark": 0.10}  # gold per ml, MEDIUM barrels
PERFECT_STOCK = 1_000_000
STEP = 25  # the candidate grid's step, in percent
KICKED = 2  # items a kick replaces, each by a random candidate at a random price
Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]


def candidates(step: int = STEP) -> list[Recipe]:
    """Every recipe of four colours in `step` % steps (35 for 25 %)."""
    parts = range(0, 101, step)
    return [(r, g, b, 100 - r - g - b) for r in parts for g in parts for b in parts if r + g + b <= 100]


def liquid_cost(recipe: Recipe) -> float:
    """Gold of barrel liquid in one potion (100 ml) at MEDIUM barrel prices."""
    return sum(pct * ML_COST[colour] for colour, pct in zip(COLOURS, recipe))


def sku_of(recipe: Recipe) -> str:
    return "P" + "_".join(str(pct) for pct in recipe)


@dataclass(frozen=True)
class Offer:
    """One line of the oracle's catalog."""

    recipe: Recipe
    price: int


@dataclass(frozen=True)
class Score:
    """What a fixed catalog earns over a game's shoppers."""

    gold: float  # STARTING_GOLD + profit
    potions: int
    revenue: int
    checkouts: int


@dataclass(frozen=True)
class Verdict:
    """The oracle's best catalog and its score."""

    world: str
    catalog: tuple[Offer, ...]
    score: Score
    evaluations: int  # catalog x price-column evaluations
    seconds: float

    @property
    def gold(self) -> int:
        return round(self.score.gold)


def from_sales(sold: Mapping[str, int], recipes: Mapping[str, Recipe], prices: Mapping[str, int]) -> list[Offer]:
    """A fixed catalog from a game's sales: the CATALOG_SIZE best-selling skus at the prices last shown."""
    best = sorted((sku for sku in sold if sku in recipes and sku in prices), key=lambda sku: (-sold[sku], sku))
    offers: dict[Recipe, Offer] = {}
    for sku in best:
        offers.setdefault(recipes[sku], Offer(recipes[sku], prices[sku]))
    return list(offers.values())[:CATALOG_SIZE]


def items_of(offers: Sequence[Offer]) -> list[CatalogItem]:
    return [
        CatalogItem(sku_of(o.recipe), sku_of(o.recipe), PERFECT_STOCK, o.price, o.recipe)
        for o in sorted(offers, key=lambda o: sku_of(o.recipe))
    ]


def replay(world: World, visits: Sequence[Visit], offers: Sequence[Offer]) -> Score:
    """The game's shoppers against a fixed catalog with perfect stock, visit by visit with the world's own choice;
    the shop's standing (successful checkouts by class) is counted up to the end of each tick, as the game does."""
    catalog = items_of(offers)
    cost = {item.sku: liquid_cost(item.potion_type) for item in catalog}
    sales: Counter[str] = Counter()
    now: Counter[str] = Counter()
    profit, potions, revenue, checkouts, tick = 0.0, 0, 0, 0, None
    for visit in visits:
        if visit.tick != tick:
            sales.update(now)
            now.clear()
            tick = visit.tick
        lines = world.choose(visit, catalog, sales)
        if lines:
            now[visit.customer.character_class] += 1
            checkouts += 1
        for item, quantity in lines:
            profit += (item.price - cost[item.sku]) * quantity
            potions += quantity
            revenue += item.price * quantity
    return Score(STARTING_GOLD + profit, potions, revenue, checkouts)


# --- fast evaluation -------------------------------------------------------------------------------------------------


class Evaluator(Protocol):
    """Scores catalogs over one game's shoppers: `profits` gives the profit (no starting gold) for every price in
    `grid` of item `vary`, the other items at `prices`. Items are indexes into `recipes`."""

    recipes: list[Recipe]
    top_price: int  # no shopper pays more than this for anything
    kicks: int  # how many times the search kicks its best catalog and improves again (more when evaluation is cheap)
    screen_step: int  # moves are screened with every screen_step-th price, then tuned over every price

    def add(self, recipe: Recipe) -> int: ...

    def profits(self, items: Sequence[int], prices: Sequence[int], vary: int, grid: Ints) -> Floats: ...


def _price_matrix(prices: Sequence[int], vary: int, grid: Ints) -> Ints:
    matrix = np.repeat(np.asarray(prices, dtype=np.int64)[:, None], len(grid), axis=1)
    matrix[vary] = grid
    return matrix


class _Recipes:
    def __init__(self) -> None:
        self.recipes: list[Recipe] = []
        self.index: dict[Recipe, int] = {}

    def add(self, recipe: Recipe) -> int:
        if recipe not in self.index:
            self.index[recipe] = len(self.recipes)
            self.recipes.append(recipe)
            self._added(recipe)
        return self.index[recipe]

    def _added(self, recipe: Recipe) -> None:
        raise NotImplementedError

    def _ordered(self, items: Sequence[int], prices: Sequence[int], vary: int) -> tuple[list[int], list[int], int]:
        """The items in sku order (the choice's last tie-break), their prices, and where `vary` went."""
        order = sorted(range(len(items)), key=lambda k: sku_of(self.recipes[items[k]]))
        return [items[k] for k in order], [prices[k] for k in order], order.index(vary)


class ClassicEvaluator(_Recipes):
    """The classic world: a shopper takes the (at most two) liked items in appeal order, cheaper first on a tie,
    as many as wanted and affordable. No reputation, so shoppers are independent and only their class, purse and
    wants matter: per class, the potions its shoppers take of a first line at price a, and of a second line at price
    b after a first at a, are tables over every price, made once; a catalog is then scored by looking them up."""

    def __init__(self, visits: Sequence[Visit]) -> None:
        super().__init__()
        shoppers = [v for v in visits if v.shops]
        self.classes = sorted(classic.CLASS_COLOURS)
        self.top_price = PRICES[1]  # a liked item nobody can afford still takes one of the two lines
        self.kicks = 8
        self.screen_step = 1
        prices = np.arange(self.top_price + 1, dtype=np.int64)
        prices[0] = 1  # (price 0 is never asked for; the row keeps indexes equal to prices)
        self.first = np.zeros((len(self.classes), len(prices)), dtype=np.int64)  # class x a: potions
        self.second = np.zeros((len(self.classes), len(prices), len(prices)), dtype=np.int64)  # class x a x b
        for c, name in enumerate(self.classes):
            mine = [v for v in shoppers if v.customer.character_class == name]
            purse = np.array([v.purse for v in mine], dtype=np.int64)
            want = [np.array([v.wanted[i] for v in mine], dtype=np.int64) for i in range(2)]
            richest = int(purse.max(initial=0))
            for a in range(1, min(richest + 1, self.top_price) + 1):  # dearer than every purse: as at richest + 1
                taken = np.minimum(want[0], purse // a)
                self.first[c, a] = taken.sum()
                left = purse - taken * a
                self.second[c, a] = np.minimum(want[1][:, None], left[:, None] // prices[None, :]).sum(axis=0)
            self.second[c, richest + 2 :] = self.second[c, min(richest + 1, self.top_price)]
        self.appeal: list[list[float]] = []  # by recipe, by class
        self.cost: list[float] = []

    def _added(self, recipe: Recipe) -> None:
        self.appeal.append([classic.appeal(c, recipe) for c in self.classes])
        self.cost.append(liquid_cost(recipe))

    def profits(self, items: Sequence[int], prices: Sequence[int], vary: int, grid: Ints) -> Floats:
        items, prices, vary = self._ordered(items, prices, vary)
        matrix = _price_matrix(prices, vary, grid)  # (K, G)
        k, g = matrix.shape
        classes = len(self.classes)
        cost = np.array([self.cost[i] for i in items])
        appeal = np.array([self.appeal[i] for i in items]).T  # (C, K)
        liked = appeal >= classic.LIKES
        # the liked order (appeal down, then price, then sku) as one whole number per class, item and column
        better = (appeal[:, None, :] > appeal[:, :, None]).sum(axis=2)  # (C, K): items of higher appeal
        key = (better * (PRICES[1] + 1) * k)[:, :, None] + (matrix * k + np.arange(k)[:, None])[None, :, :]
        key = np.where(liked[:, :, None], key, np.iinfo(np.int64).max)  # (C, K, G)
        a_item = key.argmin(axis=1)  # (C, G)
        np.put_along_axis(key, a_item[:, None, :], np.iinfo(np.int64).max, axis=1)
        b_item = key.argmin(axis=1)
        count = liked.sum(axis=1)[:, None]  # (C, 1)
        rows = np.arange(classes)[:, None]
        columns = np.arange(g)[None, :]
        a, b = matrix[a_item, columns], matrix[b_item, columns]
        first = np.where(count >= 1, self.first[rows, a], 0)
        second = np.where(count >= 2, self.second[rows, a, b], 0)
        return (first * (a - cost[a_item]) + second * (b - cost[b_item])).sum(axis=0)


class Evaluator2026(_Recipes):
    """The 2026 world: the item of largest surplus (ties: cheaper, then sku) among the affordable ones, if its
    surplus is positive and at least the rival's; perhaps a second line the same way; and only if the visitor looks
    at our catalog, whose chance grows with our checkouts to their class up to the end of the previous tick."""

    def __init__(self, visits: Sequence[Visit]) -> None:
        super().__init__()
        self.visits = list(visits)
        self.classes = list(world2026.PREFERENCES)
        self.cls = np.array([self.classes.index(v.customer.character_class) for v in visits], dtype=np.int64)
        self.purse = np.array([v.purse for v in visits], dtype=np.int64)[:, None, None]
        self.want = [np.array([v.wanted[i] for v in visits], dtype=np.int64)[:, None] for i in range(2)]
        self.seconds = np.flatnonzero([v.second for v in visits])
        self.rival = np.array([world2026.rival_surplus(v) for v in visits])[:, None]
        # Recognition: a visitor looks iff our checkouts to their class in earlier ticks reach `needs` (the chance
        # to look grows with them, so each visitor's draw is a threshold on the count).
        chances = [world2026.look_chance(n) for n in range(len(visits) + 1)]
        self.needs = np.array(
            [next((n for n, chance in enumerate(chances) if v.look < chance), len(visits) + 1) for v in visits]
        )[:, None]
        # Visits by class, then tick: a running sum in this order, read where the visitor's (class, tick) starts
        # less where their class starts, counts the class's checkouts in earlier ticks.
        self.order = np.array(sorted(range(len(visits)), key=lambda i: (self.cls[i], visits[i].tick)), dtype=np.int64)
        self.earlier = np.zeros(len(visits), dtype=np.int64)
        self.before = np.zeros(len(visits), dtype=np.int64)
        group: tuple[int, int] | None = None
        for place, i in enumerate(self.order):
            if group is None or group[0] != self.cls[i]:
                class_start = place
            if group != (self.cls[i], visits[i].tick):
                group, group_start = (int(self.cls[i]), visits[i].tick), place
            self.earlier[i], self.before[i] = group_start, class_start
        self.wealth = [world2026.wealth(v.customer) for v in visits]
        self.top_price = max(1, min(PRICES[1], int(max(self.wealth, default=1)) + 1))
        self.kicks = 0  # a kick found nothing better on seeds 1-10
        self.screen_step = 3
        self.value: list[Floats] = []  # by recipe: each shopper's willingness to pay
        self.cost: list[float] = []

    def _added(self, recipe: Recipe) -> None:
        weights = {c: world2026.weight(c, recipe) for c in self.classes}
        self.value.append(np.array([w * weights[v.customer.character_class] for w, v in zip(self.wealth, self.visits)]))
        self.cost.append(liquid_cost(recipe))

    def profits(self, items: Sequence[int], prices: Sequence[int], vary: int, grid: Ints) -> Floats:
        items, prices, vary = self._ordered(items, prices, vary)
        matrix = _price_matrix(prices, vary, grid)[None, :, :]  # (1, K, G)
        k, g = matrix.shape[1:]
        if not len(self.visits):
            return np.zeros(g)
        cost = np.array([self.cost[i] for i in items])[:, None]
        surplus = np.stack([self.value[i] for i in items], axis=1)[:, :, None] - matrix  # (S, K, G)
        line1, best1 = self._best(surplus, matrix <= self.purse, matrix)
        ok1 = (best1 > 0) & (best1 >= self.rival)
        price1 = matrix[0][line1, np.arange(g)]
        q1 = np.where(ok1, np.minimum(self.want[0], self.purse[:, :, 0] // price1), 0)
        profit = q1 * (price1 - cost[line1, 0])  # (S, G)
        two = self.seconds  # the second line, for those who would buy one
        gold = self.purse[two, :, 0] - q1[two] * price1[two]
        others = np.arange(k)[None, :, None] != line1[two][:, None, :]
        line2, best2 = self._best(surplus[two], others & (matrix <= gold[:, None, :]), matrix)
        ok2 = ok1[two] & (best2 > 0) & (best2 >= self.rival[two])
        price2 = matrix[0][line2, np.arange(g)]
        q2 = np.where(ok2, np.minimum(self.want[1][two], gold // price2), 0)
        profit[two] += q2 * (price2 - cost[line2, 0])
        return (np.where(self._looks(ok1), profit, 0)).sum(axis=0)

    def _looks(self, sold: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
        """Who looks at our catalog, by shopper and price column, given who would buy if they looked. Start from
        those who look with no sales at all and grow: each round counts the checkouts of earlier ticks and lets
        in whoever now reaches their threshold. Counts only grow with looks, so the rounds climb to the one
        answer that tick-by-tick play gives (the first tick's looks need no sales, each next tick's only earlier
        ones)."""
        looks = np.broadcast_to(self.needs == 0, sold.shape)
        while True:
            running = np.zeros((sold.shape[0] + 1, sold.shape[1]), dtype=np.int64)
            np.cumsum((looks & sold)[self.order], axis=0, out=running[1:])
            counts = running[self.earlier] - running[self.before]
            grown = counts >= self.needs
            if np.array_equal(grown, looks):
                return looks
            looks = grown

    @staticmethod
    def _best(surplus: Floats, allowed: npt.NDArray[np.bool_], matrix: Ints) -> tuple[Ints, Floats]:
        """Per shopper and price column: the chosen item and its surplus (-inf when none is allowed)."""
        masked = np.where(allowed, surplus, -np.inf)
        best = masked.max(axis=1)  # (S, G)
        tied = masked == best[:, None, :]
        cheapest = np.where(tied, matrix, PRICES[1] + 1).min(axis=1)
        chosen = np.argmax(tied & (matrix == cheapest[:, None, :]), axis=1)  # lowest sku among the cheapest
        return chosen, best


def evaluator(world: World, visits: Sequence[Visit]) -> Evaluator:
    if world.name == classic.NAME:
        return ClassicEvaluator(visits)
    if world.name == world2026.NAME:
        return Evaluator2026(visits)
    raise ValueError(f"the oracle knows no world {world.name!r}")


# --- search ----------------------------------------------------------------------------------------------------------


class _Search:
    def __init__(self, judge: Evaluator) -> None:
        self.judge = judge
        self.grid = np.arange(PRICES[0], judge.top_price + 1, dtype=np.int64)
        self.coarse = self.grid[judge.screen_step // 2 :: judge.screen_step]
        self.evaluations = 0

    def column(self, items: list[int], prices: list[int], vary: int, coarse: bool = False) -> tuple[int, float]:
        """The best price of item `vary` (the others fixed), and the profit at it (the lowest such price); with
        `coarse`, among every judge.screen_step-th price only."""
        self.evaluations += 1
        grid = self.coarse if coarse else self.grid
        profits = self.judge.profits(items, prices, vary, grid)
        best = int(np.argmax(profits))
        return int(grid[best]), float(profits[best])

    def value(self, items: list[int], prices: list[int]) -> float:
        if not items:
            return 0.0
        self.evaluations += 1
        return float(self.judge.profits(items, prices, 0, np.array([prices[0]], dtype=np.int64))[0])

    def with_item(self, items: list[int], prices: list[int], item: int) -> tuple[list[int], list[int], float]:
        price, profit = self.column([*items, item], [*prices, self.judge.top_price], len(items), coarse=True)
        return [*items, item], [*prices, price], profit

    def descend(self, items: list[int], prices: list[int], profit: float) -> tuple[list[int], float]:
        """Coordinate descent: each item's best price in turn, until a whole round changes nothing."""
        prices = list(prices)
        changed = True
        while changed:
            changed = False
            for k in range(len(items)):
                price, found = self.column(items, prices, k)
                if found > profit + 1e-9:
                    prices[k], profit, changed = price, found, True
        return prices, profit

    def greedy(self, pool: list[int]) -> tuple[list[int], list[int], float]:
        items: list[int] = []
        prices: list[int] = []
        profit = 0.0
        while len(items) < CATALOG_SIZE:
            tried = [self.with_item(items, prices, item) for item in pool if item not in items]
            if not tried:
                break
            best = max(tried, key=lambda t: t[2])
            if best[2] <= profit + 1e-9:
                break
            items, prices = best[0], best[1]
            prices, profit = self.descend(items, prices, best[2])
        return items, prices, profit

    def improve(self, items: list[int], prices: list[int], pool: list[int]) -> tuple[list[int], list[int], float]:
        """Descend, then take the best swap (an item for another candidate at its best price), removal or addition
        and descend again, until no move pays."""
        prices, profit = self.descend(items, prices, self.value(items, prices))
        while True:
            moves: list[tuple[list[int], list[int], float]] = []
            for k in range(len(items)):
                rest, rest_prices = items[:k] + items[k + 1 :], prices[:k] + prices[k + 1 :]
                moves.append((rest, rest_prices, self.value(rest, rest_prices)))
                moves += [self.with_item(rest, rest_prices, item) for item in pool if item not in items]
            if len(items) < CATALOG_SIZE:
                moves += [self.with_item(items, prices, item) for item in pool if item not in items]
            if not moves:
                return items, prices, profit
            moved, moved_prices, found = max(moves, key=lambda move: move[2])
            if found <= profit + 1e-9:
                return items, prices, profit
            items = moved
            prices, profit = self.descend(moved, moved_prices, found)


def best_catalog(
    world: World,
    visits: Sequence[Visit],
    starts: Sequence[Sequence[Offer]] = (),
    step: int = STEP,
    kicks: int | None = None,
) -> Verdict:
    """The best fixed catalog the search finds for these shoppers (see the module's docstring). Each of `starts` is
    also improved from, so the verdict is never worse than any of them."""
    started = time.perf_counter()
    judge = evaluator(world, visits)
    pool = [judge.add(recipe) for recipe in candidates(step)]
    search = _Search(judge)
    beginnings: list[tuple[list[int], list[int]]] = []
    items, prices, _ = search.greedy(pool)
    beginnings.append((items, prices))
    if world.name == world2026.NAME:
        preferred = [judge.add(r) for r in world2026.PREFERENCES.values()]
        beginnings.append((preferred, [judge.top_price] * len(preferred)))
    for start in starts:
        offers = {o.recipe: o.price for o in start if 1 <= o.price <= PRICES[1]}
        chosen = list(offers.items())[:CATALOG_SIZE]
        beginnings.append(([judge.add(r) for r, _ in chosen], [min(p, judge.top_price) for _, p in chosen]))
    best: tuple[list[int], list[int], float] | None = None
    for items, prices in beginnings:
        found = search.improve(items, prices, pool)
        if best is None or found[2] > best[2]:
            best = found
    assert best is not None
    rng = random.Random("oracle")
    for _ in range(judge.kicks if kicks is None else kicks):
        items, prices = list(best[0]), list(best[1])
        for k in rng.sample(range(len(items)), min(KICKED, len(items))):
            items[k] = rng.choice([i for i in pool if i not in items])
            prices[k] = rng.randint(PRICES[0], judge.top_price)
        found = search.improve(items, prices, pool)
        if found[2] > best[2]:
            best = found
    catalog = tuple(
        sorted((Offer(judge.recipes[i], p) for i, p in zip(best[0], best[1])), key=lambda o: sku_of(o.recipe))
    )
    return Verdict(
        world.name, catalog, replay(world, visits, catalog), search.evaluations, time.perf_counter() - started
    )
