"""What the shop's metrics are about, as plain values: which metric, over which stretch of time, and the offers the
exchange showed. The SQL behind each metric lives in `adapters/metrics.py`; this module knows no database.

A metric is a table of rows (each a dict of plain values). Game days are named, and a metric's rows come in the week's
order (`domain.clock.WEEKDAYS`: either spelling of day 3); a day the exchange names otherwise sorts after them, by name.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from domain.potions import COLOURS, Barrel

MIXED = "mixed"  # a barrel holding more than one colour
DEFAULT_POINTS = 200  # points of the balances over time, at most
MAX_POINTS = 1000


class Metric(enum.StrEnum):
    """Every metric the shop computes: the course's four charts, then the books over time."""

    SALES_BY_HOUR = "sales_by_hour"  # (1) potions sold per game day, hour and potion
    BARREL_OFFERS = "barrel_offers"  # (2) every barrel type offered: when, which liquid, gold per ml
    BUYERS = "buyers"  # (3) which class, species and level buys which potion
    CONVERSION = "conversion"  # (4) visitors against checkouts per game day and hour
    BALANCES = "balances"  # gold, ml, potions and capacity at the end of each game tick
    PROFIT = "profit"  # revenue - barrels - capacity per game day


TITLES = {
    Metric.SALES_BY_HOUR: "Potions sold by game hour",
    Metric.BARREL_OFFERS: "Barrels offered: gold per ml",
    Metric.BUYERS: "Who buys which potion",
    Metric.CONVERSION: "Visitors and checkouts by game hour",
    Metric.BALANCES: "Gold, ml, potions and capacity over time",
    Metric.PROFIT: "Profit per game day",
}


@dataclass(frozen=True)
class MetricsQuery:
    """Which part of the history a metric covers: wall time in [since, until] (naive UTC), game `day` and `hour`
    (where the metric has them), and for the balances at most `points` ticks, evenly spread."""

    since: datetime | None = None
    until: datetime | None = None
    day: str | None = None
    hour: int | None = None
    points: int = DEFAULT_POINTS


def liquid(barrel: Barrel) -> str:
    """The one colour a barrel holds (a fraction within 1e-6 of 1), or "mixed"."""
    for colour, fraction in zip(COLOURS, barrel.potion_type):
        if abs(fraction - 1.0) <= 1e-6:
            return colour
    return MIXED
