"""What the shop has seen of its market in one game, and what it learns from it.

Everything here comes from what the exchange told the shop over the HTTP contract: the ticks (day and hour), who
visited (their class), the catalog each visit was shown (price and quantity per sku), what each class bought, and the
barrels on offer. Nothing knows how the exchange decides: the shop learns it.

`History` is the game so far, a tick at a time; `Forecast` is what the planners read from it:
- how many visitors of each class come in a tick of a given day and hour;
- how many potions of a sku a visitor of a class buys when it is on the shelf (a rate per visitor, shrunk towards
  a prior from the heart of the class's taste, with an optimistic bonus where the shop has seen little: a bandit
  over recipes per class);
- whether the price should go up or down (the elasticity its price tests show, against the balance point);
- what a ml of each colour costs at the cheapest barrels that are usually on offer.
"""

from __future__ import annotations

import bisect
import math
import random
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from domain.clock import DAYS, day_index
from domain.ledger import ML_PER_CAPACITY_UNIT
from domain.potions import COLOURS, Barrel, Potion

TICKS_PER_DAY = 12
WEEK = TICKS_PER_DAY * len(DAYS)
REFERENCE_ML_COST = {"red": 0.10, "green": 0.10, "blue": 0.12, "dark": 0.10}  # MEDIUM barrels, until offers say
FIRST_PRICE = 40  # the price level until enough price tests were made
MIN_PRICE_TESTS = 6  # ticks that sold something, and price tests, before the price moves
PRICE_TESTS = (0.8, 1.0, 1.0, 1.25)  # a tick's price against the base, drawn per tick of the week
PRICE_MEMORY = 36  # ticks over which a price test's weight falls by e: tests around an old base say less of today
TEST_WINDOW = 6  # a price test is held against the untested ticks this many ticks either side of it
STOCKED = 1  # potions of a class's favourite on the shelf for its visitors to tell of the price
PRICE_EDGE = 1.0  # how many standard errors the elasticity must be off the balance for the price to move
HOPEFUL_RATE = 0.6  # potions a visitor of a class that bought nothing yet is hoped to buy of a potion not tried
NEUTRAL_RATE = 0.1  # and is expected to buy of it
PRIOR_WEIGHT = 2.0  # how many visitors' worth of evidence that prior is worth
EXPLORE = 0.3  # the optimistic bonus, as a share of the prior, for a potion a class has not been shown
TRIAL = 8  # visitors a potion is shown to before its forecast is trusted for more than a trial batch
RECIPE_BANDWIDTH = 40.0  # how fast (L1 distance, in percent points) the prior falls away from a class's taste
DEFAULT_VISITORS = 5.0  # visitors a tick, before any visit has been seen


def ticks_left(day: str, hour: int) -> int:
    """Ticks from this one to the end of the game's week, this one included (Soulday 22:00 has one left). A day the
    shop does not know is treated as the first of a whole week."""
    index = day_index(day)
    if index is None:
        return WEEK
    return WEEK - index * TICKS_PER_DAY - min(max(hour, 0), 23) // 2


@dataclass(frozen=True)
class Sold:
    units: int = 0
    gold: int = 0


@dataclass(frozen=True)
class Tick:
    """One tick of the game: when, who came (visitors by class), what they were shown (sku -> (price, quantity)),
    what they bought ((class, sku) -> Sold), carts by class ((class) -> (carts, lines)) and the barrels on offer."""

    day: str
    hour: int
    visitors: Mapping[str, int] = field(default_factory=dict)
    shown: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    sold: Mapping[tuple[str, str], Sold] = field(default_factory=dict)
    carts: Mapping[str, tuple[int, int]] = field(default_factory=dict)
    offers: tuple[Barrel, ...] = ()

    @property
    def total_visitors(self) -> int:
        return sum(self.visitors.values())

    @property
    def price_level(self) -> float | None:
        """The price the shelf asked at this tick (its median price), if anything was shown."""
        prices = sorted(price for price, _ in self.shown.values())
        return float(prices[len(prices) // 2]) if prices else None


@dataclass(frozen=True)
class History:
    """The game so far, oldest tick first; the last tick is the current one."""

    ticks: tuple[Tick, ...] = ()

    @property
    def now(self) -> Tick | None:
        return self.ticks[-1] if self.ticks else None

    @property
    def remaining(self) -> int:
        """Ticks left in the game's week, the current one included."""
        now = self.now
        return ticks_left(now.day, now.hour) if now else WEEK


# --- building a history from what the repositories recorded ----------------------------------------------------------


@dataclass(frozen=True)
class Records:
    """What the shop recorded, as rows: the ticks (day, hour, when set), visitors (when, class), what visits were
    shown (when, sku, price, quantity), sale lines (when, class, sku, units, gold, cart) and offers (tick number in
    `ticks`, barrel). A repository reads these; `history` buckets them by tick."""

    ticks: Sequence[tuple[str, int, datetime]] = ()
    visitors: Sequence[tuple[datetime, str]] = ()
    shown: Sequence[tuple[datetime, str, int, int]] = ()
    sales: Sequence[tuple[datetime, str, str, int, int, int]] = ()
    offers: Sequence[tuple[int, Barrel]] = ()

    def history(self) -> History:
        """The records by tick: each row belongs to the latest tick set at or before it. A tick told twice in a row
        (a retried time without a key) is one tick."""
        starts: list[datetime] = []
        times: list[tuple[str, int]] = []
        merged: dict[int, int] = {}  # tick number in `self.ticks` -> index in `times`
        for n, (day, hour, started) in enumerate(self.ticks):
            if times and times[-1] == (day, hour):
                merged[n] = len(times) - 1
                continue
            merged[n] = len(times)
            starts.append(started)
            times.append((day, hour))

        def at(moment: datetime) -> int | None:
            i = bisect.bisect_right(starts, moment) - 1
            return i if i >= 0 else None

        visitors: defaultdict[int, Counter[str]] = defaultdict(Counter)
        for moment, kind in self.visitors:
            if (i := at(moment)) is not None:
                visitors[i][kind] += 1
        shown: defaultdict[int, dict[str, tuple[int, int]]] = defaultdict(dict)
        for moment, sku, price, quantity in self.shown:
            if (i := at(moment)) is not None:
                shown[i][sku] = (price, quantity)
        sold: defaultdict[int, dict[tuple[str, str], Sold]] = defaultdict(dict)
        lines: defaultdict[int, defaultdict[str, dict[int, int]]] = defaultdict(lambda: defaultdict(Counter))
        for moment, kind, sku, units, gold, cart in self.sales:
            if (i := at(moment)) is not None:
                before = sold[i].get((kind, sku), Sold())
                sold[i][kind, sku] = Sold(before.units + units, before.gold + gold)
                lines[i][kind][cart] += 1
        offers: defaultdict[int, list[Barrel]] = defaultdict(list)
        for n, barrel in self.offers:
            if n in merged:
                offers[merged[n]].append(barrel)
        return History(
            tuple(
                Tick(
                    day,
                    hour,
                    dict(visitors[i]),
                    shown[i],
                    sold[i],
                    {kind: (len(carts), sum(carts.values())) for kind, carts in lines[i].items()},
                    tuple(offers[i]),
                )
                for i, (day, hour) in enumerate(times)
            )
        )


# --- what the shop learns ---------------------------------------------------------------------------------------------


def single_colour(barrel: Barrel) -> str | None:
    """The one colour a barrel holds, if it holds one."""
    parts = barrel.potion_type
    return COLOURS[parts.index(max(parts))] if max(parts) >= 0.999 * sum(parts) > 0 else None


@dataclass
class Forecast:
    """What the planners read of a `History` (see the module's docstring)."""

    history: History
    potions: Sequence[Potion]
    class_visitors: Counter[str] = field(default_factory=Counter)
    exposure: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    units: defaultdict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    second_lines: dict[str, float] = field(default_factory=dict)
    taste: dict[str, tuple[list[float], float]] = field(default_factory=dict)  # class -> (centre, best rate)
    ml_cost: dict[str, float] = field(default_factory=lambda: dict(REFERENCE_ML_COST))

    @classmethod
    def of(cls, history: History, potions: Sequence[Potion]) -> Forecast:
        forecast = cls(history, list(potions))
        carts: Counter[str] = Counter()
        lines: Counter[str] = Counter()
        for tick in history.ticks:
            forecast.class_visitors.update(tick.visitors)
            for kind, n in tick.visitors.items():
                for sku in tick.shown:
                    forecast.exposure[kind][sku] += n
            for (kind, sku), sold in tick.sold.items():
                forecast.units[kind][sku] += sold.units
            for kind, (c, n) in tick.carts.items():
                carts[kind] += c
                lines[kind] += n
        by_sku = {p.sku: p for p in potions}
        for kind, bought in forecast.units.items():
            total = sum(n for sku, n in bought.items() if sku in by_sku)
            if total:
                centre = [
                    sum(n * by_sku[sku].potion_type.as_list()[k] for sku, n in bought.items() if sku in by_sku) / total
                    for k in range(len(COLOURS))
                ]
                best = max(n / max(forecast.exposure[kind][sku], TRIAL) for sku, n in bought.items())
                forecast.taste[kind] = (centre, best)
        # How much of a second potion a class buys: 0 if a cart never holds two, 1 if it always does.
        forecast.second_lines = {kind: min(max(lines[kind] / carts[kind] - 1, 0.0), 1.0) for kind in carts}
        forecast.ml_cost.update(forecast._ml_cost())
        return forecast

    def _ml_cost(self) -> dict[str, float]:
        """Per colour, the gold per ml of the cheapest barrel that has been on offer in at least a quarter of the
        offer rounds (the price the shop can count on, not a rare bargain), of those that fit in a capacity unit
        beside other liquid (a LARGE fills a whole unit: what it saves is capacity's to earn)."""
        rounds = [t.offers for t in self.history.ticks if t.offers]
        seen: defaultdict[str, Counter[float]] = defaultdict(Counter)
        for offers in rounds:
            for colour, ppm in {
                (c, round(b.price / b.ml_per_barrel, 4))
                for b in offers
                if (c := single_colour(b)) and b.quantity > 0 and 1000 <= b.ml_per_barrel < ML_PER_CAPACITY_UNIT
            }:
                seen[colour][ppm] += 1
        costs = {}
        for colour, prices in seen.items():
            usual = [ppm for ppm, n in prices.items() if n * 4 >= len(rounds)]
            if usual:
                costs[colour] = min(usual)
        return costs

    # --- potions -----------------------------------------------------------------------------------------------------

    def unit_cost(self, potion: Potion) -> float:
        """The liquid in one potion, at the barrels the shop can count on."""
        return sum(self.ml_cost[c] * pct for c, pct in zip(COLOURS, potion.potion_type.as_list()))

    def rate(self, kind: str, potion: Potion, hopeful: bool = False) -> float:
        """Potions of `potion` a visitor of class `kind` buys when it is on the shelf: what they bought, shrunk
        towards the prior (`_prior`)."""
        exposed, bought = self.exposure[kind][potion.sku], self.units[kind][potion.sku]
        return (bought + PRIOR_WEIGHT * self._prior(kind, potion, hopeful)) / (exposed + PRIOR_WEIGHT)

    def _prior(self, kind: str, potion: Potion, hopeful: bool) -> float:
        """What a class is expected to buy of a potion it has seen little of: as much as of the potion it buys most,
        for a recipe at the heart of its taste (the mean recipe of what it bought, by units), less the further the
        recipe lies from there. For a class that has bought nothing yet: little (NEUTRAL_RATE) when forecasting
        what will sell, much (HOPEFUL_RATE) when choosing what to try."""
        if kind not in self.taste:
            return HOPEFUL_RATE if hopeful else NEUTRAL_RATE
        centre, best = self.taste[kind]
        away = sum(abs(a - b) for a, b in zip(potion.potion_type.as_list(), centre))
        return best * math.exp(-away / RECIPE_BANDWIDTH)

    def optimistic_rate(self, kind: str, potion: Potion) -> float:
        """A hopeful `rate` plus a bonus that shrinks as the shop shows the potion to the class: what the catalog's
        choice explores with (a bandit's upper confidence bound)."""
        exposed = self.exposure[kind][potion.sku]
        bonus = EXPLORE * self._prior(kind, potion, hopeful=True) / math.sqrt(1.0 + exposed)
        return self.rate(kind, potion, hopeful=True) + bonus

    def exposed(self, potion: Potion) -> int:
        """Visitors the potion has been shown to."""
        return sum(self.exposure[kind][potion.sku] for kind in self.exposure)

    def class_shares(self) -> dict[str, float]:
        total = sum(self.class_visitors.values())
        return {kind: n / total for kind, n in self.class_visitors.items()} if total else {}

    # --- visitors ----------------------------------------------------------------------------------------------------

    def visitors_at(self, day: str, hour: int) -> float:
        """Visitors expected in a tick: the mean at that hour so far, scaled by how busy that day was (if seen)."""
        ticks = [t for t in self.history.ticks if t.visitors]
        if not ticks:
            return DEFAULT_VISITORS
        mean = sum(t.total_visitors for t in ticks) / len(ticks)
        same_hour = [t.total_visitors for t in ticks if t.hour == hour]
        expected = sum(same_hour) / len(same_hour) if same_hour else mean
        same_day = [t.total_visitors for t in ticks if day_index(t.day) == day_index(day)]
        if same_day and mean:
            expected *= (sum(same_day) / len(same_day)) / mean
        return expected

    def future(self, ticks: int) -> list[tuple[str, int]]:
        """The (day, hour) of the next `ticks` ticks from the current one (included), within the game's week."""
        now = self.history.now
        if now is None:
            return [(DAYS[0], 2 * h) for h in range(min(ticks, TICKS_PER_DAY))]
        start = day_index(now.day)
        first = (start if start is not None else 0) * TICKS_PER_DAY + min(max(now.hour, 0), 23) // 2
        ticks = min(ticks, WEEK - first)
        return [(DAYS[(first + k) // TICKS_PER_DAY], 2 * ((first + k) % TICKS_PER_DAY)) for k in range(ticks)]

    def demand(self, potion: Potion, ticks: int) -> float:
        """Potions of `potion` expected to sell over the next `ticks` ticks (the current one included) if it is on
        the shelf throughout."""
        shares = self.class_shares()
        per_visitor = sum(share * self.rate(kind, potion) for kind, share in shares.items()) if shares else 0.3
        return per_visitor * sum(self.visitors_at(day, hour) for day, hour in self.future(ticks))

    # --- prices ------------------------------------------------------------------------------------------------------

    def _ticks_that_earned(self) -> int:
        """Ticks that showed potions in stock to visitors and earned more gold than their liquid cost."""
        by_sku = {p.sku: p for p in self.potions}
        return sum(
            1
            for tick in self.history.ticks
            if tick.price_level is not None
            and tick.total_visitors
            and any(quantity > 0 for _, quantity in tick.shown.values())
            and sum(
                s.gold - s.units * self.unit_cost(by_sku[sku]) for (_, sku), s in tick.sold.items() if sku in by_sku
            )
            > 0
        )

    def base_price(self) -> float | None:
        """The price level the latest priced tick was tested around (its level without its test)."""
        for tick in reversed(self.history.ticks):
            if tick.price_level is not None:
                return tick.price_level / price_test(tick.day, tick.hour)
        return None

    def price_level(self, grid: Sequence[int]) -> int:
        """The price level to ask: the base the last ticks were tested around, or a grid step up or down from it
        as the price tests say. What each class bought at a tick is held against what it buys on average, and only
        where the potion it buys most was on the shelf (at least STOCKED of it), so that the mix of classes cancels;
        each test is held against the untested ticks around it (TEST_WINDOW), so that base, stock and crowd cancel,
        and recent tests weigh more (PRICE_MEMORY). The slope of log demand on log price is the elasticity: the
        price steps up while it is above the balance -p / (p - liquid cost) by PRICE_EDGE standard errors, down
        while it is below by as much. Until MIN_PRICE_TESTS ticks have earned something: the first price."""
        base = self.base_price()
        if base is None or self._ticks_that_earned() < MIN_PRICE_TESTS:
            return FIRST_PRICE
        rates = {kind: sum(self.units[kind].values()) / n for kind, n in self.class_visitors.items() if n}
        favourite = {
            kind: max(self.potions, key=lambda p: (self.units[kind][p.sku], p.sku)).sku
            for kind in rates
            if self.units[kind]
        }
        ticks = []  # (test, potions sold, potions expected) of each tick that tells of the price
        for tick in self.history.ticks:
            sold = expected = 0.0
            for kind, n in tick.visitors.items():
                if kind in favourite and tick.shown.get(favourite[kind], (0, 0))[1] >= STOCKED:
                    sold += sum(s.units for (k, _), s in tick.sold.items() if k == kind)
                    expected += n * rates[kind]
            if tick.price_level is not None and expected > 0:
                ticks.append((price_test(tick.day, tick.hour), sold, expected))
        # Each test against the untested ticks around it (the same base, stock and crowd): its log price step x and
        # log relative demand y, recent tests weighing more. The elasticity is their slope.
        xs, ys, ws = [], [], []
        for n, (test, sold, expected) in enumerate(ticks):
            window = ticks[max(n - TEST_WINDOW, 0) : n + TEST_WINDOW + 1]
            around = [t for t in window if t[0] == 1.0 and t is not ticks[n]]
            usual_sold, usual_expected = sum(t[1] for t in around), sum(t[2] for t in around)
            if test != 1.0 and usual_sold > 0:
                xs.append(math.log(test))
                ys.append(math.log((sold + 0.5) / expected) - math.log((usual_sold + 0.5) / usual_expected))
                ws.append(math.exp(-(len(ticks) - 1 - n) / PRICE_MEMORY))
        cost = sum(self.unit_cost(p) for p in self.potions) / max(len(self.potions), 1)
        move = 0
        if len(xs) >= MIN_PRICE_TESTS and base > cost:
            spread = sum(w * x * x for w, x in zip(ws, xs))
            elasticity = sum(w * x * y for w, x, y in zip(ws, xs, ys)) / spread
            error = math.sqrt(sum((w * x * (y - elasticity * x)) ** 2 for w, x, y in zip(ws, xs, ys))) / spread
            # Gold less liquid, (p - cost) * demand(p), grows with the price while the elasticity is above this:
            balance = -base / (base - cost)
            if elasticity - balance > PRICE_EDGE * error:
                move = 1
            elif balance - elasticity > PRICE_EDGE * error:
                move = -1
        steps = sorted(set(grid) | {round(base)})
        at = min(range(len(steps)), key=lambda k: abs(steps[k] - base))
        return steps[min(max(at + move, 0), len(steps) - 1)]


def price_test(day: str, hour: int) -> float:
    """How a tick's price is set against the base price: raised or lowered by a step on about half the ticks
    (the same ticks each week), so that the shop learns what its customers pay."""
    return random.Random(f"{day_index(day)}-{hour}").choice(PRICE_TESTS)
