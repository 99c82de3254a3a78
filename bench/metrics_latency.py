"""Metrics latency on PostgreSQL with 1,000,000 sale lines and 1,000,000 ledger entries: every `GET /metrics/...`
route answers in p95 <= 250 ms over HTTP, with and without filters.

The history is synthetic but shaped like the shop's, written by SQL through the schema's own constraints and
triggers: the checkouts of `bench/search_latency.py` (carts, sale transactions, 1,000,000 sale lines over 90 days),
each sale's gold entries (shop and customers), barrel purchases (shop and suppliers) and a capacity purchase a day
until the ledger holds 1,000,000 entries, running balances and all; a game clock tick every hour; a wholesale
catalog of 16 barrel types recorded every other tick; a visit every 30 seconds with 1 to 4 customers. Then VACUUM
ANALYZE.

The shop is served by gunicorn; one keep-alive client asks each route with each of its filter sets (none; the last
week; a week in the middle; one game day; one hour; a day and an hour; for the balances 1,000 points) `--samples`
times, interleaved, and reports p50/p95 per route over all its requests. The slowest (route, filter) is run through
EXPLAIN ANALYZE.

    python bench/metrics_latency.py [--lines 1000000] [--entries 1000000] [--samples 20] [--workers 2]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text  # noqa: E402

from adapters.metrics import METRICS  # noqa: E402
from bench import search_latency  # noqa: E402
from bench.harness import API_KEY, Client, fresh_pg_database, gunicorn_shop  # noqa: E402
from cauldrons.bootstrap import bootstrap  # noqa: E402
from cauldrons.config import Config  # noqa: E402
from domain.clock import DAYS  # noqa: E402
from domain.metrics import Metric, MetricsQuery  # noqa: E402

P95_TARGET = 0.250  # seconds
START = datetime(2027, 1, 1)  # after the opening's entries: the running balances go forward in time
SPAN_HOURS = 90 * 24

# Barrel purchases (n of them, evenly over the span) and a capacity purchase a day, stamped with game time as the
# checkouts are (a game hour is a wall hour here).
PURCHASES = """
INSERT INTO account_transactions (created_at, kind, description, game_day, game_hour)
SELECT at, kind, kind || ' (benchmark)', (CAST(:days AS text[]))[secs / 86400 % 7 + 1], secs / 3600 % 24
  FROM (SELECT CAST(:start AS timestamp) + secs * interval '1 second' + interval '1 millisecond' AS at, secs, kind
          FROM (SELECT (CAST(i AS bigint) * :span / :n) AS secs, 'barrel_purchase' AS kind
                  FROM generate_series(0, :n - 1) AS i
                UNION ALL
                SELECT d * 86400 + 43200, 'capacity_purchase' FROM generate_series(0, :span / 86400 - 1) AS d) s
       ) t
 ORDER BY at
"""

# Two gold entries per transaction since START (sale: customers -> shop, the lines' total; barrels: shop ->
# suppliers, 100; capacity: shop -> builders, 1000), in time order, with each account's running balance.
ENTRIES = """
WITH moves AS (
    SELECT t.id, t.created_at, t.kind,
           CASE t.kind WHEN 'sale' THEN (SELECT SUM(total) FROM sale_lines l WHERE l.account_transaction_id = t.id)
                       WHEN 'barrel_purchase' THEN -100 ELSE -1000 END AS gold
      FROM account_transactions t
     WHERE t.created_at >= :start AND t.kind IN ('sale', 'barrel_purchase', 'capacity_purchase')
), sides AS (
    SELECT m.id, m.created_at, a.id AS account_id, m.gold AS change, true AS non_negative, 0 AS side
      FROM moves m JOIN accounts a ON a.owner = 'shop' AND a.commodity = 'gold'
    UNION ALL
    SELECT m.id, m.created_at, a.id, -m.gold, false, 1
      FROM moves m JOIN accounts a ON a.commodity = 'gold'
       AND a.owner = CASE m.kind WHEN 'sale' THEN 'customers' WHEN 'barrel_purchase' THEN 'suppliers'
                                 ELSE 'builders' END
)
INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, balance_after, created_at,
                                    non_negative)
SELECT s.account_id, s.id, s.change,
       COALESCE((SELECT e.balance_after FROM account_ledger_entries e WHERE e.account_id = s.account_id
                  ORDER BY e.created_at DESC, e.id DESC LIMIT 1), 0)
       + SUM(s.change) OVER (PARTITION BY s.account_id ORDER BY s.created_at, s.id),
       s.created_at, s.non_negative
  FROM sides s
 ORDER BY s.created_at, s.id, s.side
"""

TICKS = """
INSERT INTO game_clock (day, hour, created_at)
SELECT (CAST(:days AS text[]))[h / 24 % 7 + 1], h % 24, CAST(:start AS timestamp) + h * interval '1 hour'
  FROM generate_series(0, :span - 1) AS h ORDER BY h
"""

OFFERS = """
INSERT INTO barrel_offers (tick_id, game_day, game_hour, sku, ml_per_barrel, red, green, blue, dark, liquid, price,
                           quantity, created_at)
SELECT g.id, g.day, g.hour, size || '_' || upper(colour) || '_BARREL', ml,
       CASE colour WHEN 'red' THEN 1 ELSE 0 END, CASE colour WHEN 'green' THEN 1 ELSE 0 END,
       CASE colour WHEN 'blue' THEN 1 ELSE 0 END, CASE colour WHEN 'dark' THEN 1 ELSE 0 END, colour,
       price + (g.id * 7 + length(colour)) % 20, 10 + g.id % 20, g.created_at + interval '1 second'
  FROM game_clock g
 CROSS JOIN (VALUES ('MINI', 200, 60), ('SMALL', 500, 100), ('MEDIUM', 2500, 250), ('LARGE', 10000, 500))
       AS s(size, ml, price)
 CROSS JOIN (VALUES ('red'), ('green'), ('blue'), ('dark')) AS c(colour)
 WHERE g.created_at >= :start AND g.hour % 2 = 0
"""

VISITS = """
WITH new_visits AS (
    INSERT INTO visits (visit_id, created_at, game_day, game_hour)
    SELECT 'bench-' || i, CAST(:start AS timestamp) + i * interval '30 seconds',
           (CAST(:days AS text[]))[i * 30 / 86400 % 7 + 1], i * 30 / 3600 % 24
      FROM generate_series(0, :span * 120 - 1) AS i ORDER BY i
    RETURNING id
)
INSERT INTO visit_customers (visit_pk, customer_id, customer_name, character_class, character_species, level)
SELECT v.id, 'visitor-' || (v.id * 31 + k) % 20000, 'Visitor ' || (v.id * 31 + k) % 20000,
       (CAST(:classes AS text[]))[(v.id + k) % 8 + 1], (CAST(:species AS text[]))[(v.id * 3 + k) % 6 + 1],
       1 + (v.id + k) % 20
  FROM new_visits v CROSS JOIN generate_series(1, 1 + CAST(v.id % 4 AS int)) AS k
"""


def count(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one())


def write_history(engine: Engine, lines: int, entries: int) -> None:
    search_latency.START = START  # the checkouts start after the shop's opening
    search_latency.write_history(engine, lines)
    with engine.connect() as conn:
        sales = conn.execute(text("SELECT COUNT(*) FROM account_transactions WHERE kind = 'sale'")).scalar_one()
    days, span = list(DAYS), SPAN_HOURS * 3600
    barrels = max(0, (entries - count(engine, "account_ledger_entries")) // 2 - sales - span // 86400)
    with engine.begin() as conn:
        for owner in ("customers", "suppliers", "builders"):
            conn.execute(
                text("INSERT INTO accounts (owner, commodity) VALUES (:o, 'gold') ON CONFLICT DO NOTHING"),
                {"o": owner},
            )
        conn.execute(text(PURCHASES), {"days": days, "start": START, "span": span, "n": barrels})
    with engine.begin() as conn:
        conn.execute(text(ENTRIES), {"start": START})
    with engine.begin() as conn:
        conn.execute(text(TICKS), {"days": days, "start": START, "span": SPAN_HOURS})
        conn.execute(text(OFFERS), {"start": START})
        conn.execute(
            text(VISITS),
            {
                "days": days,
                "start": START,
                "span": SPAN_HOURS,
                "classes": search_latency.CLASSES,
                "species": search_latency.SPECIES,
            },
        )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE"))


def filter_sets(metric: Metric) -> dict[str, dict[str, Any]]:
    end = START + timedelta(hours=SPAN_HOURS)
    windows = {
        "none": {},
        "last week": {"since": (end - timedelta(days=7)).isoformat()},
        "a middle week": {
            "since": (START + timedelta(days=40)).isoformat(),
            "until": (START + timedelta(days=47)).isoformat(),
        },
    }
    if metric is Metric.BALANCES:
        return {**windows, "1000 points": {"points": 1000}}
    return {
        **windows,
        "one day": {"day": "Crownday"},
        "one hour": {"hour": 14},
        "day and hour": {"day": "Crownday", "hour": 14},
    }


def percentile(values: list[float], q: float) -> float:
    """The nearest-rank `q` quantile of `values` (NaN for none)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))] if ordered else float("nan")


def explain(engine: Engine, metric: Metric, params: dict[str, Any]) -> tuple[float, list[str]]:
    """EXPLAIN ANALYZE of the metric's SQL with these filters: execution time (ms) and the plan's node lines."""
    definition = METRICS[metric]
    query = MetricsQuery(
        since=datetime.fromisoformat(params["since"]) if "since" in params else None,
        until=datetime.fromisoformat(params["until"]) if "until" in params else None,
        day=params.get("day"),
        hour=params.get("hour"),
        points=params.get("points", MetricsQuery().points),
    )
    with engine.connect() as conn:
        plan = conn.execute(
            definition.statement("EXPLAIN (ANALYZE, FORMAT JSON) "), definition.values(query)
        ).scalar_one()
    root = (plan if isinstance(plan, list) else json.loads(plan))[0]
    lines: list[str] = []

    def walk(node: dict[str, Any], depth: int) -> None:
        label = node["Node Type"] + (f" on {node['Relation Name']}" if "Relation Name" in node else "")
        label += f" using {node['Index Name']}" if "Index Name" in node else ""
        lines.append(f"{'  ' * depth}{label} (rows {node.get('Actual Rows')}, {node.get('Actual Total Time')} ms)")
        for child in node.get("Plans", []):
            walk(child, depth + 1)

    walk(root["Plan"], 0)
    return root["Execution Time"], lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=20, help="requests per route and filter set")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    with fresh_pg_database() as url:
        wiring = bootstrap(Config(url, API_KEY))
        engine = wiring.engine
        started = time.perf_counter()
        write_history(engine, args.lines, args.entries)
        written_in = time.perf_counter() - started
        sizes = {
            t: count(engine, t)
            for t in (
                "sale_lines",
                "account_ledger_entries",
                "account_transactions",
                "game_clock",
                "barrel_offers",
                "visits",
                "visit_customers",
            )
        }
        times: dict[tuple[Metric, str], list[float]] = {}
        calls = [(m, label, params) for m in Metric for label, params in filter_sets(m).items()]
        fresh = {"METRICS_FRESH_SECONDS": "0"}  # the database's work every time: no kept replies
        with gunicorn_shop(url, args.workers, env=fresh) as server:
            client = Client(server.url)
            for metric, _, params in calls:  # warm up: every route once per worker
                for _ in range(args.workers):
                    client.get(f"/metrics/{metric}?{urlencode(params)}")
            for _ in range(args.samples):
                for metric, label, params in calls:
                    answer = client.get(f"/metrics/{metric}?{urlencode(params)}")
                    assert answer.status == 200, (metric, label, answer.status, answer.body[:200])
                    times.setdefault((metric, label), []).append(answer.seconds)
            client.close()
        worst = max(times, key=lambda key: percentile(times[key], 0.95))
        slowest_ms, plan = explain(engine, worst[0], filter_sets(worst[0])[worst[1]])
        engine.dispose()

    print(
        f"metrics latency over HTTP, gunicorn {args.workers} workers, PostgreSQL; history written by SQL in "
        f"{written_in:.0f} s: " + ", ".join(f"{n:,} {t}" for t, n in sizes.items())
    )
    print(f"  {'route':16}{'filter':15}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}")
    for (metric, label), found in times.items():
        print(
            f"  {metric:16}{label:15}{statistics.median(found) * 1000:>9.1f}{percentile(found, 0.95) * 1000:>9.1f}"
            f"{max(found) * 1000:>9.1f}"
        )
    print("per route, over every filter set:")
    met = True
    for metric in Metric:
        every = [t for (m, _), found in times.items() if m is metric for t in found]
        p95 = percentile(every, 0.95)
        met &= p95 <= P95_TARGET
        print(
            f"  {metric:16} p50 {statistics.median(every) * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   "
            f"{'met' if p95 <= P95_TARGET else 'NOT MET'}"
        )
    print(f"slowest: {worst[0]} ({worst[1]}), EXPLAIN ANALYZE {slowest_ms:.1f} ms:")
    for line in plan:
        print(f"    {line}")
    print(f"target: every route's p95 <= {P95_TARGET * 1000:.0f} ms {'met' if met else 'NOT MET'}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
