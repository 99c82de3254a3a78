"""`cauldrons ledger verify`: re-derive everything from the raw entries and compare with what the books say.

Each check is one SQL query that returns the rows breaking an invariant (none, when the books are sound). The sums
here are recomputed from `change` alone, independently of the running balances the shop reads, so a drift in
either shows up. The metrics' rollups (migrations 0008 and 0009) are derived data kept by triggers: each is
recomputed from the facts it sums (sale lines, visits) and compared row by row.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlalchemy import Connection, bindparam, text

from service_layer.idempotency import BOOKING

EXAMPLES = 10


@dataclass(frozen=True)
class Check:
    name: str
    rule: str
    sql: str  # `{hour(column)}`, `{day(column)}`: a time's rollup bucket, written in the connection's dialect


# How the rollup triggers bucket a time, per dialect (SQLite stores times as text, as SQLAlchemy writes them).
BUCKETS = {
    "postgresql": {"hour": "date_trunc('hour', {})", "day": "date_trunc('day', {})"},
    "sqlite": {"hour": "strftime('%Y-%m-%d %H:00:00.000000', {})", "day": "strftime('%Y-%m-%d 00:00:00.000000', {})"},
}


BUCKET = re.compile(r"\{(hour|day)\(([\w.]+)\)\}")


def _rollup(table: str, keys: str, sums: str, facts: str) -> str:
    """The rows where `table` and the same sums recomputed from `facts` (a SELECT of `keys` and `sums`, grouped)
    disagree, or where either has a row the other lacks: (key columns..., stored sums..., recomputed sums...)."""
    key_list, sum_list = [k.strip() for k in keys.split(",")], [x.strip() for x in sums.split(",")]
    on = " AND ".join(f"r.{k} = f.{k}" for k in key_list)
    differs = " OR ".join(f"r.{x} <> f.{x}" for x in sum_list)
    return f"""
        WITH f AS ({facts})
        SELECT {", ".join(f"COALESCE(r.{k}, f.{k})" for k in key_list)},
               {", ".join(f"r.{x}" for x in sum_list)}, {", ".join(f"f.{x}" for x in sum_list)}
          FROM {table} r FULL OUTER JOIN f ON {on}
         WHERE r.{key_list[0]} IS NULL OR f.{key_list[0]} IS NULL OR {differs}
         ORDER BY 1"""


CHECKS = (
    Check(
        "balanced",
        "every transaction nets to zero per commodity",
        """
        SELECT e.account_transaction_id, a.commodity, SUM(e.change)
          FROM account_ledger_entries e JOIN accounts a ON a.id = e.account_id
         GROUP BY e.account_transaction_id, a.commodity HAVING SUM(e.change) <> 0
         ORDER BY 1""",
    ),
    Check(
        "running_balances",
        "each entry's balance_after is the sum of its account's changes up to it",
        """
        SELECT id, account_id, balance_after, running FROM (
            SELECT id, account_id, balance_after,
                   SUM(change) OVER (PARTITION BY account_id ORDER BY created_at, id) AS running
              FROM account_ledger_entries) s
         WHERE balance_after <> running ORDER BY id""",
    ),
    Check(
        "time_order",
        "an entry is never older than its transaction, and no account's time goes back",
        """
        SELECT e.id, e.account_id, e.created_at, t.created_at, e.previous_time FROM (
            SELECT id, account_id, account_transaction_id, created_at,
                   LAG(created_at) OVER (PARTITION BY account_id ORDER BY id) AS previous_time
              FROM account_ledger_entries) e JOIN account_transactions t ON t.id = e.account_transaction_id
         WHERE e.created_at < t.created_at OR e.created_at < e.previous_time ORDER BY e.id""",
    ),
    Check(
        "never_negative",
        "no shop balance was ever below zero, and only the shop's accounts are held to it",
        """
        SELECT s.id, a.owner, a.commodity, s.running FROM (
            SELECT id, account_id, non_negative,
                   SUM(change) OVER (PARTITION BY account_id ORDER BY created_at, id) AS running
              FROM account_ledger_entries) s JOIN accounts a ON a.id = s.account_id
         WHERE (a.owner = 'shop' AND s.running < 0) OR s.non_negative <> (a.owner = 'shop') ORDER BY s.id""",
    ),
    Check(
        "one_transaction_per_request",
        "a request key moved the ledger at most once",
        """
        SELECT request_route, request_key, COUNT(*) FROM account_transactions
         WHERE request_key IS NOT NULL GROUP BY request_route, request_key HAVING COUNT(*) > 1 ORDER BY 1, 2""",
    ),
    Check(
        "answered_as_booked",
        "a ledger request's stored reply says success and that it moved exactly when it booked a transaction "
        "(a reply stored before revision 0005: a success booked at most one)",
        """
        SELECT p.route, p.key, p.status, COUNT(t.id) FROM processed_requests p
          LEFT JOIN account_transactions t ON t.request_route = p.route AND t.request_key = p.key
         WHERE p.route IN :ledger_routes
         GROUP BY p.route, p.key, p.status, p.moved
        HAVING COUNT(t.id) <> CASE WHEN p.status BETWEEN 200 AND 299 AND p.moved THEN 1 ELSE 0 END
               AND NOT (p.moved IS NULL AND p.status BETWEEN 200 AND 299 AND COUNT(t.id) <= 1)
        UNION ALL
        SELECT t.request_route, t.request_key, NULL, 1 FROM account_transactions t
         WHERE t.request_key IS NOT NULL AND NOT EXISTS (
               SELECT 1 FROM processed_requests p WHERE p.route = t.request_route AND p.key = t.request_key)
         ORDER BY 1, 2""",
    ),
    Check(
        "sales_recorded",
        "each checkout's sale lines add up to its gold and potion entries and carry its time",
        """
        WITH booked AS (
            SELECT e.account_transaction_id AS txn, a.commodity, SUM(e.change) AS change
              FROM account_ledger_entries e
              JOIN accounts a ON a.id = e.account_id
              JOIN account_transactions t ON t.id = e.account_transaction_id
             WHERE t.kind = 'sale' AND a.owner = 'shop'
             GROUP BY e.account_transaction_id, a.commodity),
        recorded AS (
            SELECT account_transaction_id AS txn, 'gold' AS commodity, SUM(total) AS change
              FROM sale_lines GROUP BY account_transaction_id
            UNION ALL
            SELECT account_transaction_id, 'potion:' || sku, -SUM(quantity)
              FROM sale_lines GROUP BY account_transaction_id, sku)
        SELECT COALESCE(b.txn, r.txn), COALESCE(b.commodity, r.commodity), b.change, r.change
          FROM booked b FULL OUTER JOIN recorded r ON r.txn = b.txn AND r.commodity = b.commodity
         WHERE COALESCE(b.change, 0) <> COALESCE(r.change, 0)
        UNION ALL
        SELECT s.account_transaction_id, 'time of sale line ' || CAST(s.id AS VARCHAR(20)), NULL, NULL
          FROM sale_lines s
          JOIN account_transactions t ON t.id = s.account_transaction_id
         WHERE s.created_at <> t.created_at OR COALESCE(s.game_day, '') <> COALESCE(t.game_day, '')
            OR COALESCE(s.game_hour, -1) <> COALESCE(t.game_hour, -1)
         ORDER BY 1, 2""",
    ),
    Check(
        "sales_hourly",
        "the sales-by-hour rollup is the sum of the sale lines of each hour, game hour and potion",
        _rollup(
            "sales_hourly",
            "bucket, game_day, game_hour, sku",
            "lines, potions, gold",
            """SELECT {hour(created_at)} AS bucket, game_day, game_hour, sku,
                      COUNT(*) AS lines, SUM(quantity) AS potions, SUM(total) AS gold
                 FROM sale_lines WHERE game_day IS NOT NULL GROUP BY 1, 2, 3, 4""",
        ),
    ),
    Check(
        "checkouts_hourly",
        "the checkouts rollup counts each cart once, at its first line, and sums its lines' potions and gold",
        _rollup(
            "checkouts_hourly",
            "bucket, game_day, game_hour",
            "carts, potions, gold",
            """SELECT {hour(s.created_at)} AS bucket, s.game_day, s.game_hour,
                      SUM(CASE WHEN NOT EXISTS (SELECT 1 FROM sale_lines p WHERE p.cart_id = s.cart_id AND p.id < s.id)
                               THEN 1 ELSE 0 END) AS carts,
                      SUM(s.quantity) AS potions, SUM(s.total) AS gold
                 FROM sale_lines s WHERE s.game_day IS NOT NULL GROUP BY 1, 2, 3""",
        ),
    ),
    Check(
        "visits_hourly",
        "the visitors rollup counts the customers of each hour's visits",
        _rollup(
            "visits_hourly",
            "bucket, game_day, game_hour",
            "visitors",
            """SELECT {hour(v.created_at)} AS bucket, v.game_day, v.game_hour, COUNT(*) AS visitors
                 FROM visits v JOIN visit_customers c ON c.visit_pk = v.id
                WHERE v.game_day IS NOT NULL GROUP BY 1, 2, 3""",
        ),
    ),
    Check(
        "buyers_daily",
        "the buyers rollup is the sum of the sale lines of each day, game day, buyer and potion",
        _rollup(
            "buyers_daily",
            "bucket, game_day, character_class, character_species, level, sku",
            "lines, potions, gold",
            """SELECT {day(created_at)} AS bucket, COALESCE(game_day, '') AS game_day, character_class,
                      character_species, level, sku, COUNT(*) AS lines, SUM(quantity) AS potions, SUM(total) AS gold
                 FROM sale_lines GROUP BY 1, 2, 3, 4, 5, 6""",
        ),
    ),
    Check(
        "customer_names",
        "every customer name on a sale line is among the names the order search matches a name filter against",
        """
        SELECT DISTINCT s.customer_name FROM sale_lines s
         WHERE NOT EXISTS (SELECT 1 FROM sale_customer_names n WHERE n.customer_name = s.customer_name)
         ORDER BY 1""",
    ),
)

COUNTS = {
    "accounts": "SELECT COUNT(*) FROM accounts",
    "transactions": "SELECT COUNT(*) FROM account_transactions",
    "entries": "SELECT COUNT(*) FROM account_ledger_entries",
    "processed requests": "SELECT COUNT(*) FROM processed_requests",
    "sale lines": "SELECT COUNT(*) FROM sale_lines",
}


@dataclass
class Finding:
    check: Check
    problems: int
    examples: list[tuple[object, ...]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.problems == 0


@dataclass
class Report:
    counts: dict[str, int]
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return all(f.ok for f in self.findings)

    def lines(self) -> list[str]:
        out = ["ledger: " + ", ".join(f"{n:,} {what}" for what, n in self.counts.items())]
        for f in self.findings:
            out.append(
                f"{'ok   ' if f.ok else 'DRIFT'} {f.check.name}: {f.check.rule}"
                + ("" if f.ok else f" -- {f.problems} violation(s)")
            )
            out.extend(f"        {row}" for row in f.examples)
        out.append("the books are sound" if self.ok else "the books have drifted: see DRIFT above")
        return out


def verify(connection: Connection) -> Report:
    counts = {what: connection.execute(text(sql)).scalar_one() for what, sql in COUNTS.items()}
    findings = []
    buckets = BUCKETS[connection.dialect.name]
    for check in CHECKS:
        sql = BUCKET.sub(lambda m: buckets[m[1]].format(m[2]), check.sql)
        query = text(sql)
        if ":ledger_routes" in sql:
            query = query.bindparams(bindparam("ledger_routes", sorted(BOOKING), expanding=True))
        rows = [tuple(row) for row in connection.execute(query)]
        findings.append(Finding(check, len(rows), rows[:EXAMPLES]))
    return Report(counts, findings)


class NotAShop(Exception):
    """The database is not a shop at the newest schema."""


def verify_database(database_url: str) -> Report:
    """Verify the books of the shop at `database_url`, reading one snapshot and taking no write lock, so the shop
    keeps serving meanwhile."""
    from adapters import migrations
    from adapters.db import make_engine

    engine = make_engine(database_url, read_only=True)
    try:
        with engine.connect() as connection:
            if migrations.current(connection) != migrations.head():
                raise NotAShop(f"{database_url} is not a shop at the newest schema: run cauldrons migrate")
            return verify(connection)
    finally:
        engine.dispose()
