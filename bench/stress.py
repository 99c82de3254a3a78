"""The race-and-retry stress (`cauldrons/exchange/stress.py`) against gunicorn on a throwaway PostgreSQL database:
client processes fire deliveries and whole sales, every keyed POST sent 2-5 times at once, and the run is judged
from outside (each key applied at most once, identical 2xx bytes, balances equal to the tally, `ledger verify`
clean, no 5xx). Prints its figures; exits 1 on any problem.

    python bench/stress.py [--requests 10000] [--clients 4] [--workers 4]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import API_KEY, fresh_pg_database, gunicorn_shop  # noqa: E402
from cauldrons.exchange.stress import stress  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=10_000, help="about how many requests to send")
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    ops_per_client = max(1, args.requests // (args.clients * 6))  # a sale is ~3 POSTs x 3.5 copies
    with fresh_pg_database() as database_url, gunicorn_shop(database_url, args.workers) as server:
        verdict = stress(server.url, API_KEY, database_url, args.clients, ops_per_client, args.seed)
    lat = sorted(verdict.latencies)
    print(
        f"stress: {verdict.requests} requests from {args.clients} client processes to {args.workers} gunicorn "
        f"workers on PostgreSQL in {verdict.seconds:.1f} s"
    )
    print(f"  throughput        {verdict.requests / verdict.seconds:,.0f} requests/s")
    print(
        f"  latency           p50 {statistics.median(lat) * 1000:.1f} ms, "
        f"p99 {statistics.quantiles(lat, n=100)[98] * 1000:.1f} ms"
    )
    print(
        f"  keys applied      {verdict.applied} (each once); replayed answers {verdict.replayed}; "
        f"changed payloads refused with 422: {verdict.mismatches_refused}; 409 refusals {verdict.refused_409}"
    )
    print(f"  statuses          {dict(sorted(verdict.statuses.items()))}")
    print(
        f"  duplicates applied: {sum('transactions for' in p for p in verdict.problems)}; "
        f"problems: {len(verdict.problems)}"
    )
    for problem in verdict.problems[:20]:
        print("  PROBLEM", problem)
    sys.exit(0 if verdict.ok else 1)


if __name__ == "__main__":
    main()
