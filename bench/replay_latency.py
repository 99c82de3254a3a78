"""Replayed POST latency / first-time latency of the same POST, over HTTP to gunicorn on PostgreSQL (target <= 0.5).

Each of N barrel deliveries is sent once (first time: the key guessed new; the reply and the posting, which locks
the shop's accounts and appends the entries with running balances, in one implicit transaction) and at once again
with the same key and body (replay: answered from the replies the worker knows). Same client, same connection
handling, interleaved, so both see the same machine. With `--elsewhere` the replay goes to a second shop process on
the same database, as a retry that reaches another server does: it knows nothing of the reply, guesses the key new,
finds it taken at the commit (the reply's INSERT, before the posting runs), then reads the stored reply and replays
it. With `--sibling` the replay goes to another worker of the same server (2 workers, the replay's connection kept
to the worker that did not answer first), as a retry on a new connection may: that worker too knows nothing of the
reply.

    python bench/replay_latency.py [--requests 1000] [--workers 1] [--elsewhere | --sibling]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contextlib import ExitStack  # noqa: E402

from bench.harness import Client, fresh_pg_database, gunicorn_shop  # noqa: E402
from cauldrons.exchange.transport import HttpTransport  # noqa: E402

BARREL = [{"sku": "MINI_RED_BARREL", "ml_per_barrel": 1, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1)
    elsewhere = parser.add_mutually_exclusive_group()
    elsewhere.add_argument("--elsewhere", action="store_true", help="replay on a second shop process")
    elsewhere.add_argument("--sibling", action="store_true", help="replay on another worker of the same shop process")
    args = parser.parse_args()
    if args.sibling:
        args.workers = max(args.workers, 2)
    first, replay = [], []
    with ExitStack() as stack:
        url = stack.enter_context(fresh_pg_database())
        server = stack.enter_context(gunicorn_shop(url, args.workers))
        client = Client(server.url)
        again: HttpTransport = client
        if args.elsewhere:
            again = Client(stack.enter_context(gunicorn_shop(url, args.workers)).url)
        elif args.sibling:
            again = server.client_elsewhere(client)
        for i in range(-20, args.requests):  # the first 20 warm up
            path = f"/barrels/deliver/replay-{i + 20}"
            a, b = client.post(path, BARREL), again.post(path, BARREL)
            assert (a.status, b.status, b.body, b.headers.get("Idempotent-Replayed")) == (204, 204, a.body, "true")
            if i >= 0:
                first.append(a.seconds)
                replay.append(b.seconds)
        audit = client.get("/inventory/audit").json()
    assert audit["ml_in_barrels"] == args.requests + 20, audit  # every delivery applied once
    f, r = statistics.median(first), statistics.median(replay)
    where = "by the same worker"
    if args.elsewhere or args.sibling:
        where = "on a second shop process" if args.elsewhere else "by another worker of the server"
    print(f"replay latency over HTTP, gunicorn {args.workers} worker(s), PostgreSQL, {args.requests} POSTs", end=" ")
    print(f"replayed {where}")
    print(f"  first time  median {f * 1000:.3f} ms  (p90 {statistics.quantiles(first, n=10)[8] * 1000:.3f} ms)")
    print(f"  replayed    median {r * 1000:.3f} ms  (p90 {statistics.quantiles(replay, n=10)[8] * 1000:.3f} ms)")
    print(f"target: replayed / first <= 0.5 -> {r / f:.2f} {'met' if r / f <= 0.5 else 'NOT MET'}")
    sys.exit(0 if r / f <= 0.5 else 1)


if __name__ == "__main__":
    main()
