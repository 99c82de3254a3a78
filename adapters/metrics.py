"""The SQL behind every metric, in one place: the routes (`GET /metrics/...`), the dashboard's charts and
`cauldrons report` all run these texts, and `metrics.md` prints them exactly as run.

Each metric is one SQL text, the same on PostgreSQL and SQLite, with bound parameters: `:since` and `:until` (wall
time, naive UTC, inclusive; NULL for no bound), `:day` and `:hour` (a game day and hour; NULL for all) where the
metric has game time, and `:points` for the balances. Game days sort in the week's order (`DAY_ORDER`), unknown
names after, by name. Sums of BIGINT columns are cast back to BIGINT (PostgreSQL's SUM of a BIGINT is NUMERIC).

`tests/fakes.py` computes every metric again in Python from the fakes' records, and
`tests/integration/test_metrics.py` holds the two to the same answers on both backends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import DateTime, Integer, String, bindparam, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from domain.clock import DAYS
from domain.metrics import TITLES, Metric, MetricsQuery
from service_layer.repositories import AbstractMetricsRepository

END_OF_TIME = datetime(9999, 12, 31)  # "no next tick": later than any entry


def _day_order(column: str) -> str:
    whens = " ".join(f"WHEN '{day}' THEN {i}" for i, day in enumerate(DAYS))
    return f"CASE {column} {whens} ELSE {len(DAYS)} END"


def _window(at: str, day: str | None = None, hour: str | None = None) -> str:
    """The filters every metric shares: wall time in [since, until], and the game day and hour if it has them."""
    conditions = [f"(:since IS NULL OR {at} >= :since)", f"(:until IS NULL OR {at} <= :until)"]
    if day is not None and hour is not None:
        conditions += [f"(:day IS NULL OR {day} = :day)", f"(:hour IS NULL OR {hour} = :hour)"]
    return "\n   AND ".join(conditions)


SALES_BY_HOUR = f"""
SELECT game_day AS day, game_hour AS hour, sku,
       SUM(quantity) AS potions, CAST(SUM(total) AS BIGINT) AS gold
  FROM sale_lines
 WHERE game_day IS NOT NULL
   AND {_window("created_at", "game_day", "game_hour")}
 GROUP BY game_day, game_hour, sku
 ORDER BY {_day_order("game_day")}, game_day, game_hour, sku"""

BARREL_OFFERS = f"""
SELECT game_day AS day, game_hour AS hour, sku, liquid, ml_per_barrel,
       COUNT(*) AS offers, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS barrels,
       CAST(SUM(price) AS DOUBLE PRECISION) / SUM(ml_per_barrel) AS gold_per_ml
  FROM barrel_offers
 WHERE {_window("created_at", "game_day", "game_hour")}
 GROUP BY game_day, game_hour, sku, liquid, ml_per_barrel
 ORDER BY {_day_order("game_day")}, game_day, game_hour, sku, ml_per_barrel"""

BUYERS = f"""
SELECT character_class AS class, character_species AS species, level, sku,
       COUNT(*) AS checkouts, SUM(quantity) AS potions, CAST(SUM(total) AS BIGINT) AS gold
  FROM sale_lines
 WHERE {_window("created_at", "game_day", "game_hour")}
 GROUP BY character_class, character_species, level, sku
 ORDER BY character_class, character_species, level, sku"""

CONVERSION = f"""
WITH seen AS (
    SELECT v.game_day AS day, v.game_hour AS hour, COUNT(*) AS visitors
      FROM visits v
      JOIN visit_customers c ON c.visit_pk = v.id
     WHERE v.game_day IS NOT NULL
       AND {_window("v.created_at", "v.game_day", "v.game_hour")}
     GROUP BY v.game_day, v.game_hour
), bought AS (
    SELECT game_day AS day, game_hour AS hour, COUNT(DISTINCT cart_id) AS checkouts,
           SUM(quantity) AS potions, CAST(SUM(total) AS BIGINT) AS gold
      FROM sale_lines
     WHERE game_day IS NOT NULL
       AND {_window("created_at", "game_day", "game_hour")}
     GROUP BY game_day, game_hour
), hours AS (
    SELECT day, hour FROM seen UNION SELECT day, hour FROM bought
)
SELECT h.day, h.hour, COALESCE(s.visitors, 0) AS visitors, COALESCE(b.checkouts, 0) AS checkouts,
       COALESCE(b.potions, 0) AS potions, COALESCE(b.gold, 0) AS gold
  FROM hours h
  LEFT JOIN seen s ON s.day = h.day AND s.hour = h.hour
  LEFT JOIN bought b ON b.day = h.day AND b.hour = h.hour
 ORDER BY {_day_order("h.day")}, h.day, h.hour"""

# At most :points ticks (every k-th of those in [since, until], and the last); each shop account's balance at the end
# of the tick (its latest running balance before the next tick began): one index probe per point and account.
BALANCES = f"""
WITH ticks AS (
    SELECT id, day, hour, created_at, ROW_NUMBER() OVER (ORDER BY id) AS n, COUNT(*) OVER () AS total
      FROM game_clock
     WHERE {_window("created_at")}
), points AS (
    SELECT t.id, t.day, t.hour, t.created_at,
           COALESCE((SELECT g.created_at FROM game_clock g WHERE g.id > t.id ORDER BY g.id LIMIT 1),
                    :end_of_time) AS ends_at
      FROM ticks t
     WHERE (t.n - 1) % ((t.total + :points - 1) / :points) = 0 OR t.n = t.total
)
SELECT p.id AS tick, p.day, p.hour, p.created_at AS at, a.commodity,
       COALESCE((SELECT e.balance_after
                   FROM account_ledger_entries e
                  WHERE e.account_id = a.id AND e.created_at < p.ends_at
                  ORDER BY e.created_at DESC, e.id DESC
                  LIMIT 1), 0) AS balance
  FROM points p
 CROSS JOIN accounts a
 WHERE a.owner = 'shop'
 ORDER BY p.id, a.commodity"""

PROFIT = f"""
SELECT t.game_day AS day,
       CAST(SUM(CASE WHEN t.kind = 'sale' THEN e.change ELSE 0 END) AS BIGINT) AS revenue,
       CAST(-SUM(CASE WHEN t.kind = 'barrel_purchase' THEN e.change ELSE 0 END) AS BIGINT) AS barrels,
       CAST(-SUM(CASE WHEN t.kind = 'capacity_purchase' THEN e.change ELSE 0 END) AS BIGINT) AS capacity,
       CAST(SUM(e.change) AS BIGINT) AS profit
  FROM account_ledger_entries e
  JOIN account_transactions t ON t.id = e.account_transaction_id
 WHERE e.account_id = (SELECT id FROM accounts WHERE owner = 'shop' AND commodity = 'gold')
   AND t.kind IN ('sale', 'barrel_purchase', 'capacity_purchase')
   AND t.game_day IS NOT NULL
   AND {_window("e.created_at", "t.game_day", "t.game_hour")}
 GROUP BY t.game_day
 ORDER BY {_day_order("t.game_day")}, t.game_day"""


@dataclass(frozen=True)
class MetricSql:
    metric: Metric
    description: str
    sql: str
    columns: tuple[str, ...]
    times: tuple[str, ...] = ()  # columns holding a wall time (read as datetimes on both backends)

    @property
    def title(self) -> str:
        return TITLES[self.metric]

    @property
    def parameters(self) -> list[str]:
        return sorted(set(re.findall(r"(?<!:):([a-z_]+)", self.sql)))

    def statement(self, prefix: str = "") -> TextClause:
        """The SQL with its parameters typed (times, text, integers); `prefix` (e.g. EXPLAIN) goes before it."""
        types: dict[str, Any] = {
            "since": DateTime(),
            "until": DateTime(),
            "end_of_time": DateTime(),
            "day": String(),
            "hour": Integer(),
        }
        params: list[Any] = [bindparam(name, type_=types.get(name, Integer())) for name in self.parameters]
        statement = text(prefix + self.sql).bindparams(*params)
        if self.times and not prefix:
            return statement.columns(**{name: DateTime() for name in self.times})  # type: ignore[return-value]
        return statement

    def values(self, query: MetricsQuery) -> dict[str, Any]:
        given = {
            "since": query.since,
            "until": query.until,
            "day": query.day,
            "hour": query.hour,
            "points": query.points,
            "end_of_time": END_OF_TIME,
        }
        return {name: given[name] for name in self.parameters}


METRICS: dict[Metric, MetricSql] = {
    m.metric: m
    for m in (
        MetricSql(
            Metric.SALES_BY_HOUR,
            "Potions sold (and gold taken) per game day, hour and potion.",
            SALES_BY_HOUR,
            ("day", "hour", "sku", "potions", "gold"),
        ),
        MetricSql(
            Metric.BARREL_OFFERS,
            "Every barrel type the exchange offered, per game day and hour: its liquid, size, how often it was "
            "offered there, its price range, barrels on offer, and gold per ml.",
            BARREL_OFFERS,
            (
                "day",
                "hour",
                "sku",
                "liquid",
                "ml_per_barrel",
                "offers",
                "min_price",
                "max_price",
                "barrels",
                "gold_per_ml",
            ),
        ),
        MetricSql(
            Metric.BUYERS,
            "Potions bought, gold paid and checkouts that bought them, per class, species, level and potion.",
            BUYERS,
            ("class", "species", "level", "sku", "checkouts", "potions", "gold"),
        ),
        MetricSql(
            Metric.CONVERSION,
            "Customers who visited against carts checked out (potions, gold) per game day and hour.",
            CONVERSION,
            ("day", "hour", "visitors", "checkouts", "potions", "gold"),
        ),
        MetricSql(
            Metric.BALANCES,
            "Each shop account's balance at the end of a game tick, for at most `points` ticks evenly spread "
            "(and the last).",
            BALANCES,
            ("tick", "day", "hour", "at", "commodity", "balance"),
            times=("at",),
        ),
        MetricSql(
            Metric.PROFIT,
            "Gold from sales, spent on barrels and on capacity, and the difference, per game day.",
            PROFIT,
            ("day", "revenue", "barrels", "capacity", "profit"),
        ),
    )
}


class SqlMetricsRepository(AbstractMetricsRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def rows(self, metric: Metric, query: MetricsQuery) -> list[dict[str, Any]]:
        definition = METRICS[metric]
        result = self.session.execute(definition.statement(), definition.values(query))
        return [dict(zip(definition.columns, row, strict=True)) for row in result]
