"""The SQL behind every metric, in one place: the routes (`GET /metrics/...`), the dashboard's charts and
`cauldrons report` all run these texts, and `metrics.md` prints them exactly as run.

Each metric is one SQL text, the same on PostgreSQL and SQLite, with bound parameters: `:since` and `:until` (wall
time, naive UTC, inclusive; NULL for no bound), `:day` and `:hour` (a game day and hour; NULL for all) where the
metric has game time, and `:points` for the balances. Game days sort in the week's order (`DAY_ORDER`), unknown
names after, by name. Sums of BIGINT columns are cast back to BIGINT (PostgreSQL's SUM of a BIGINT is NUMERIC).

`tests/integration/test_metrics.py` holds every metric to rows computed by hand for a small game
(`tests/metrics_game.py`) on both backends.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, DateTime, Integer, String, bindparam, text
from sqlalchemy.sql.elements import TextClause

from domain.clock import DAYS, WEEKDAYS
from domain.metrics import TITLES, Metric, MetricsQuery
from service_layer.repositories import AbstractMetricsRepository

END_OF_TIME = datetime(9999, 12, 31)  # "no next tick", "no until": later than any row
BEGINNING_OF_TIME = datetime(1, 1, 1)  # "no since": earlier than any row


def _day_order(column: str) -> str:
    whens = " ".join(f"WHEN '{day}' THEN {i}" for day, i in WEEKDAYS.items())
    return f"CASE {column} {whens} ELSE {len(DAYS)} END"


def _where(column: int, *conditions: str) -> str:
    """WHERE and its conditions, one a line, the ANDs right-aligned under the WHERE that starts at `column`."""
    return "WHERE " + f"\n{' ' * (column + 2)}AND ".join(conditions)


def _window(at: str, day: str | None = None, hour: str | None = None) -> list[str]:
    """The filters every metric shares: wall time in [since, until], and the game day and hour if it has them."""
    conditions = [f"(:since IS NULL OR {at} >= :since)", f"(:until IS NULL OR {at} <= :until)"]
    return conditions + (_game_time(day, hour) if day is not None and hour is not None else [])


# Sums over the whole hours inside [since, until] come from the rollups (`sales_hourly`, `checkouts_hourly`,
# `visits_hourly`, kept by triggers: migration 0008); the rows in the part hours at either edge, [since, :full_from)
# and [:full_to, until], are read as they are. The repository computes :full_from and :full_to from since and until
# (`whole`); without since (until) the edge is empty.
def _rolled(at: str) -> list[str]:
    return [f"{at} >= :full_from", f"{at} < :full_to"]


def _edges(at: str) -> list[str]:
    return _window(at) + [f"({at} < :full_from OR {at} >= :full_to)"]


def _game_time(day: str, hour: str) -> list[str]:
    return [f"(:day IS NULL OR {day} = :day)", f"(:hour IS NULL OR {hour} = :hour)"]


SALES_BY_HOUR = f"""
SELECT game_day AS day, game_hour AS hour, sku,
       CAST(SUM(potions) AS BIGINT) AS potions, CAST(SUM(gold) AS BIGINT) AS gold
  FROM (SELECT game_day, game_hour, sku, potions, gold
          FROM sales_hourly
         {_where(9, *_rolled("bucket"), *_game_time("game_day", "game_hour"))}
        UNION ALL
        SELECT game_day, game_hour, sku, quantity, total
          FROM sale_lines
         {_where(9, "game_day IS NOT NULL", *_edges("created_at"), *_game_time("game_day", "game_hour"))}) AS sold
 GROUP BY game_day, game_hour, sku
 ORDER BY {_day_order("game_day")}, game_day, game_hour, sku"""

BARREL_OFFERS = f"""
SELECT game_day AS day, game_hour AS hour, sku, liquid, ml_per_barrel,
       COUNT(*) AS offers, MIN(price) AS min_price, MAX(price) AS max_price, SUM(quantity) AS barrels,
       CAST(SUM(price) AS DOUBLE PRECISION) / SUM(ml_per_barrel) AS gold_per_ml
  FROM barrel_offers
 {_where(1, *_window("created_at", "game_day", "game_hour"))}
 GROUP BY game_day, game_hour, sku, liquid, ml_per_barrel
 ORDER BY {_day_order("game_day")}, game_day, game_hour, sku, ml_per_barrel"""

# The whole days inside [since, until] from the daily rollup (`buyers_daily`, migration 0009), the lines of the part
# days at either edge as they are; for one game hour, the lines themselves (the rollup has no hours).
BUYERS = f"""
SELECT class, species, level, sku, CAST(SUM(lines) AS BIGINT) AS checkouts, CAST(SUM(potions) AS BIGINT) AS potions,
       CAST(SUM(gold) AS BIGINT) AS gold
  FROM (SELECT character_class AS class, character_species AS species, level, sku,
               SUM(lines) AS lines, SUM(potions) AS potions, SUM(gold) AS gold
          FROM buyers_daily
         {_where(9, ":hour IS NULL", "bucket >= :days_from", "bucket < :days_to", "(:day IS NULL OR game_day = :day)")}
         GROUP BY character_class, character_species, level, sku
        UNION ALL
        SELECT character_class, character_species, level, sku, COUNT(*), SUM(quantity), SUM(total)
          FROM sale_lines
         {
    _where(
        9,
        *_window("created_at", "game_day", "game_hour"),
        "(:hour IS NOT NULL OR created_at < :days_from OR created_at >= :days_to)",
    )
}
         GROUP BY character_class, character_species, level, sku) AS bought
 GROUP BY class, species, level, sku
 ORDER BY class, species, level, sku"""

CONVERSION = f"""
WITH seen AS (
    SELECT game_day AS day, game_hour AS hour, SUM(visitors) AS visitors
      FROM (SELECT game_day, game_hour, visitors
              FROM visits_hourly
             {_where(13, *_rolled("bucket"), *_game_time("game_day", "game_hour"))}
            UNION ALL
            SELECT v.game_day, v.game_hour, COUNT(*)
              FROM visits v
              JOIN visit_customers c ON c.visit_pk = v.id
             {_where(13, "v.game_day IS NOT NULL", *_edges("v.created_at"), *_game_time("v.game_day", "v.game_hour"))}
             GROUP BY v.game_day, v.game_hour) AS visited
     GROUP BY game_day, game_hour
), bought AS (
    SELECT game_day AS day, game_hour AS hour, SUM(carts) AS checkouts, SUM(potions) AS potions,
           SUM(gold) AS gold
      FROM (SELECT game_day, game_hour, carts, potions, gold
              FROM checkouts_hourly
             {_where(13, *_rolled("bucket"), *_game_time("game_day", "game_hour"))}
            UNION ALL
            SELECT game_day, game_hour, COUNT(DISTINCT cart_id), SUM(quantity), SUM(total)
              FROM sale_lines
             {_where(13, "game_day IS NOT NULL", *_edges("created_at"), *_game_time("game_day", "game_hour"))}
             GROUP BY game_day, game_hour) AS sold
     GROUP BY game_day, game_hour
), hours AS (
    SELECT day, hour FROM seen UNION SELECT day, hour FROM bought
)
SELECT h.day, h.hour, CAST(COALESCE(s.visitors, 0) AS BIGINT) AS visitors,
       CAST(COALESCE(b.checkouts, 0) AS BIGINT) AS checkouts, CAST(COALESCE(b.potions, 0) AS BIGINT) AS potions,
       CAST(COALESCE(b.gold, 0) AS BIGINT) AS gold
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
     {_where(5, *_window("created_at"))}
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

# Revenue from the sales record (each sale's gold entry is the sum of its lines: `ledger verify` checks it). What
# was paid for barrels and capacity is what the suppliers' and the builders' gold accounts received, read from their
# running balances at the ends of each game tick (clipped to [since, until]): four index probes a tick, however many
# purchases the history holds.
PROFIT = f"""
WITH ticks AS (
    SELECT g.day, g.hour,
           CASE WHEN :since IS NOT NULL AND :since > g.created_at THEN :since ELSE g.created_at END AS starts_at,
           COALESCE((SELECT n.created_at FROM game_clock n WHERE n.id > g.id ORDER BY n.id LIMIT 1),
                    :end_of_time) AS ends_at
      FROM game_clock g
     {_where(5, "(:until IS NULL OR g.created_at <= :until)", *_game_time("g.day", "g.hour"))}
), paid AS (
    SELECT t.day, a.owner,
           COALESCE((SELECT e.balance_after FROM account_ledger_entries e
                      WHERE e.account_id = a.id AND e.created_at < t.ends_at
                        AND e.created_at <= COALESCE(:until, :end_of_time)
                      ORDER BY e.created_at DESC, e.id DESC LIMIT 1), 0)
         - COALESCE((SELECT e.balance_after FROM account_ledger_entries e
                      WHERE e.account_id = a.id AND e.created_at < t.starts_at
                      ORDER BY e.created_at DESC, e.id DESC LIMIT 1), 0) AS gold
      FROM ticks t
      JOIN accounts a ON a.commodity = 'gold' AND a.owner IN ('suppliers', 'builders')
     {_where(5, "(:since IS NULL OR t.ends_at > :since)")}
)
SELECT day, CAST(SUM(revenue) AS BIGINT) AS revenue, CAST(SUM(barrels) AS BIGINT) AS barrels,
       CAST(SUM(capacity) AS BIGINT) AS capacity, CAST(SUM(revenue) - SUM(barrels) - SUM(capacity) AS BIGINT) AS profit
  FROM (SELECT game_day AS day, gold AS revenue, 0 AS barrels, 0 AS capacity
          FROM sales_hourly
         {_where(9, *_rolled("bucket"), *_game_time("game_day", "game_hour"))}
        UNION ALL
        SELECT game_day, total, 0, 0
          FROM sale_lines
         {_where(9, "game_day IS NOT NULL", *_edges("created_at"), *_game_time("game_day", "game_hour"))}
        UNION ALL
        SELECT day, 0, CASE owner WHEN 'suppliers' THEN gold ELSE 0 END, CASE owner WHEN 'builders' THEN gold ELSE 0 END
          FROM paid) AS moved
 GROUP BY day
HAVING SUM(revenue) <> 0 OR SUM(barrels) <> 0 OR SUM(capacity) <> 0
 ORDER BY {_day_order("day")}, day"""


def whole(query: MetricsQuery, unit: timedelta) -> tuple[datetime, datetime]:
    """The whole wall-clock hours (or days: `unit`) inside [since, until] are [start, end); the part units at the
    edges are [since, start) and [end, until]. Without since (until) that edge is empty. (:full_from, :full_to) for
    the hourly rollups, (:days_from, :days_to) for the daily one.

    Every since and until a datetime can hold is answered: where a boundary would lie past the last moment a
    datetime holds (a since within the last unit of year 9999, an until at its last microsecond), the last unit is
    read from the rows as they are, at the edge, rather than from the rollup."""

    def floor(moment: datetime) -> datetime:
        return datetime.min + (moment - datetime.min) // unit * unit

    if query.since is None:
        start = BEGINNING_OF_TIME
    elif query.since == floor(query.since):
        start = query.since
    else:  # the first boundary after since; none can be held past the last one: [since, datetime.max) is an edge
        start = floor(query.since) + unit if floor(query.since) <= datetime.max - unit else datetime.max
    if query.until is None:
        end = END_OF_TIME
    else:  # the last boundary at or before until's end; at the last moment a datetime holds, that unit's start
        end = floor(query.until + timedelta(microseconds=1)) if query.until < datetime.max else floor(query.until)
    return start, max(start, end)


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
            "full_from": DateTime(),
            "full_to": DateTime(),
            "days_from": DateTime(),
            "days_to": DateTime(),
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
        full_from, full_to = whole(query, timedelta(hours=1))
        days_from, days_to = whole(query, timedelta(days=1))
        given = {
            "full_from": full_from,
            "full_to": full_to,
            "days_from": days_from,
            "days_to": days_to,
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
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def rows(self, metric: Metric, query: MetricsQuery) -> list[dict[str, Any]]:
        definition = METRICS[metric]
        result = self.connection.execute(definition.statement(), definition.values(query))
        return [dict(zip(definition.columns, row, strict=True)) for row in result]
