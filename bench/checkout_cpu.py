"""CPU per checkout (or barrel delivery), in-process on PostgreSQL: the app's CPU (Flask, the services, SQLAlchemy,
psycopg2) and the database backends' CPU, per request, one client, no HTTP server; and the round trips to the
database per request (each execute is one: the unit of work sends BEGIN with its first statement and COMMIT with its
last writes, and the driver sends nothing of its own). With
`--profile`, the app's hottest functions (cProfile, cumulative).

    python bench/checkout_cpu.py [--requests 300] [--rounds 3] [--route checkout|barrels] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, event, text  # noqa: E402

from bench.checkout_throughput import CUSTOMER  # noqa: E402
from bench.harness import API_KEY, fresh_pg_database  # noqa: E402
from cauldrons.app import create_app  # noqa: E402
from cauldrons.bootstrap import bootstrap  # noqa: E402
from cauldrons.config import Config  # noqa: E402

TICKS = os.sysconf("SC_CLK_TCK")


def backend_cpu(url: str) -> float:
    """CPU seconds used so far by every backend serving `url`'s database (from /proc: the server is local)."""
    engine = create_engine(url)
    with engine.connect() as conn:
        pids = conn.scalars(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        ).all()
    engine.dispose()
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / TICKS


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--route", choices=["checkout", "barrels"], default="checkout")
    parser.add_argument("--profile", action="store_true", help="print the app's 25 costliest functions")
    args = parser.parse_args()
    headers = {"access_token": API_KEY}
    app_ms, db_ms = [], []
    with fresh_pg_database() as url:
        config = Config(url, API_KEY)
        wiring = bootstrap(config)
        client = create_app(config, wiring.uow_factory).test_client()
        engine = wiring.engine
        trips: Counter[str] = Counter()
        event.listen(engine, "before_cursor_execute", lambda *_: trips.update(["executes"]))
        n = args.requests * args.rounds
        reply = client.post(
            "/ledger/corrections",
            json={"account": "shop/potion:RED_POTION", "change": n, "reason": "bench stock"},
            headers={**headers, "Idempotency-Key": "bench-stock"},
        )
        assert reply.status_code == 200, reply.json
        barrel = [{"sku": "FREE_RED", "ml_per_barrel": 1, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}]
        for r in range(args.rounds):
            calls: list[tuple[str, object, int]] = []
            for i in range(args.requests):
                if args.route == "checkout":
                    cart = (client.post("/carts/", json=CUSTOMER, headers=headers).json or {})["cart_id"]
                    client.post(f"/carts/{cart}/items/RED_POTION", json={"quantity": 1}, headers=headers)
                    calls.append((f"/carts/{cart}/checkout", {"payment": "gold"}, 200))
                else:
                    calls.append((f"/barrels/deliver/bench-{r}-{i}", barrel, 204))
            profile = cProfile.Profile() if args.profile and r == args.rounds - 1 else None
            trips.clear()
            db_before, app_before = backend_cpu(url), time.process_time()
            if profile:
                profile.enable()
            for path, body, status in calls:
                assert client.post(path, json=body, headers=headers).status_code == status
            if profile:
                profile.disable()
            app_ms.append((time.process_time() - app_before) * 1000 / args.requests)
            db_ms.append((backend_cpu(url) - db_before) * 1000 / args.requests)
            per = {k: v / args.requests for k, v in trips.items()}
            print(
                f"  round {r + 1}: app {app_ms[-1]:.2f} ms, database {db_ms[-1]:.2f} ms per {args.route}; "
                f"round trips {per['executes']:.1f}"
            )
    print(
        f"{args.route}: CPU per request, median of {args.rounds} rounds of {args.requests}: "
        f"app {statistics.median(app_ms):.2f} ms, database {statistics.median(db_ms):.2f} ms"
    )
    if profile:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
