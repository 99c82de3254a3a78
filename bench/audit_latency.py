"""Audit latency with 1,000 ledger entries and with 1,000,000, on PostgreSQL: the cost of a balance must not grow
with the length of history (target: ratio <= 2.0).

The history is synthetic but honest: transactions moving one unit of a shop commodity from the world to the shop,
spread over every account the audit reads, written by SQL with their running balances and checked by the
database's own triggers as they go in (and by `ledger verify` at the end). The audit is timed through the service
layer (`views.audit`) and over HTTP (Flask's test client); for contrast, a SUM over every entry too.

    python bench/audit_latency.py [--entries 1000000] [--samples 300]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Engine, text  # noqa: E402

from adapters.verification import verify  # noqa: E402
from bench.harness import API_KEY, fresh_pg_database  # noqa: E402
from cauldrons.app import create_app  # noqa: E402
from cauldrons.bootstrap import bootstrap  # noqa: E402
from cauldrons.config import Config  # noqa: E402
from domain.potions import COLOURS, DEFAULT_POTIONS  # noqa: E402
from service_layer import views  # noqa: E402

COMMODITIES = ["gold", *(f"ml:{c}" for c in COLOURS), *(f"potion:{p.sku}" for p in DEFAULT_POTIONS)]
CHUNK = 50_000  # transactions per statement

GROW = """
WITH new_txns AS (
    INSERT INTO account_transactions (created_at, kind, description)
    SELECT CAST(:start AS timestamp) + (:offset + i) * interval '1 millisecond', 'synthetic', 'benchmark history'
      FROM generate_series(1, :n) AS i ORDER BY i
    RETURNING id, created_at
)
INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, balance_after, created_at,
                                    non_negative)
SELECT s.account_id, t.id, s.sign, s.base + SUM(s.sign) OVER (PARTITION BY s.account_id ORDER BY t.id),
       t.created_at, s.non_negative
  FROM new_txns t JOIN bench_slots s ON s.slot = t.id % :slots
 ORDER BY t.id, s.sign
"""

SUM_AUDIT = """
SELECT a.commodity, COALESCE(SUM(e.change), 0) FROM accounts a
  LEFT JOIN account_ledger_entries e ON e.account_id = a.id WHERE a.owner = 'shop' GROUP BY a.id, a.commodity
"""


def entries(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.execute(text("SELECT COUNT(*) FROM account_ledger_entries")).scalar_one()


def grow(engine: Engine, target: int) -> None:
    """Append two-entry transactions until the ledger holds `target` entries."""
    with engine.begin() as conn:
        for owner in ("shop", "world"):
            for commodity in COMMODITIES:
                conn.execute(
                    text("INSERT INTO accounts (owner, commodity) VALUES (:o, :c) ON CONFLICT DO NOTHING"),
                    {"o": owner, "c": commodity},
                )
    missing = (target - entries(engine)) // 2
    while missing > 0:
        n = min(CHUNK, missing)
        with engine.begin() as conn:
            latest = conn.execute(text("SELECT MAX(created_at) FROM account_ledger_entries")).scalar_one()
            conn.execute(
                text(
                    "CREATE TEMP TABLE bench_slots (slot int, account_id bigint, sign int, base bigint, "
                    "non_negative boolean) ON COMMIT DROP"
                )
            )
            for slot, commodity in enumerate(COMMODITIES):
                for owner, sign in (("world", -1), ("shop", 1)):
                    conn.execute(
                        text("""
                        INSERT INTO bench_slots
                        SELECT :slot, a.id, :sign, COALESCE((SELECT balance_after FROM account_ledger_entries e
                               WHERE e.account_id = a.id ORDER BY created_at DESC, id DESC LIMIT 1), 0),
                               a.owner = 'shop'
                          FROM accounts a WHERE a.owner = :owner AND a.commodity = :commodity"""),
                        {"slot": slot, "sign": sign, "owner": owner, "commodity": commodity},
                    )
            conn.execute(
                text(GROW), {"start": latest + timedelta(seconds=1), "offset": 0, "n": n, "slots": len(COMMODITIES)}
            )
        missing -= n
    with engine.connect() as conn:
        conn.execute(text("COMMIT"))
        conn.execute(text("VACUUM ANALYZE account_ledger_entries"))
        conn.execute(text("VACUUM ANALYZE account_transactions"))


def timed(call, samples: int) -> float:  # type: ignore[no-untyped-def]
    """Median seconds of `call` over `samples` runs, after a few warm-ups."""
    for _ in range(5):
        call()
    times = []
    for _ in range(samples):
        started = time.perf_counter()
        call()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def measure(wiring, app, samples: int) -> dict[str, float]:  # type: ignore[no-untyped-def]
    client = app.test_client()

    def over_http() -> None:
        assert client.get("/inventory/audit", headers={"access_token": API_KEY}).status_code == 200

    def by_sum() -> None:
        with wiring.engine.connect() as conn:
            conn.execute(text(SUM_AUDIT)).all()

    return {
        "service": timed(lambda: views.audit(None, wiring.uow_factory()), samples),
        "http": timed(over_http, samples),
        "sum": timed(by_sum, max(5, samples // 30)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=300)
    args = parser.parse_args()
    with fresh_pg_database() as url:
        config = Config(url, API_KEY)
        wiring = bootstrap(config)
        app = create_app(config, uow_factory=wiring.uow_factory)
        grow(wiring.engine, 1_000)
        small_n, small = entries(wiring.engine), measure(wiring, app, args.samples)
        started = time.perf_counter()
        grow(wiring.engine, args.entries)
        grown_in = time.perf_counter() - started
        big_n, big = entries(wiring.engine), measure(wiring, app, args.samples)
        with wiring.engine.connect() as conn:
            report = verify(conn)
        audit = views.audit(None, wiring.uow_factory())
        wiring.engine.dispose()
    print(
        f"audit latency on PostgreSQL, median of {args.samples} (history written in {grown_in:.0f} s; "
        f"ledger verify: {'sound' if report.ok else 'DRIFT'}; audit then: {audit})"
    )
    print(f"  {'':24}{small_n:>12,} entries{big_n:>12,} entries    ratio")
    for name, label in (("service", "views.audit"), ("http", "GET /inventory/audit"), ("sum", "SUM(change), old way")):
        ratio = big[name] / small[name]
        print(f"  {label:24}{small[name] * 1000:>12.3f} ms    {big[name] * 1000:>12.3f} ms  {ratio:>7.2f}")
    ratio = big["service"] / small["service"]
    print(f"target: views.audit ratio <= 2.0 -> {ratio:.2f} {'met' if ratio <= 2.0 else 'NOT MET'}")
    sys.exit(0 if ratio <= 2.0 and report.ok else 1)


if __name__ == "__main__":
    main()
