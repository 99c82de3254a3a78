"""Cost of one big posting: a bottling of N mixes (2N + 1 ledger entries) through the service layer, on PostgreSQL and
SQLite. The shop's accounts are locked for the whole call, so this is time no other posting can run. Targets
(PostgreSQL): 1,000 mixes within 3 x the time of 500, and under 0.5 s.

    python bench/big_transactions.py [--sizes 250,500,1000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import API_KEY, fresh_pg_database  # noqa: E402
from cauldrons.bootstrap import bootstrap  # noqa: E402
from cauldrons.config import Config  # noqa: E402
from domain.potions import PotionType  # noqa: E402
from service_layer import services  # noqa: E402

RED = PotionType(100, 0, 0, 0)


def timings(url: str, sizes: list[int], repeats: int) -> dict[int, float]:
    """Median seconds of `services.deliver_bottles` with each number of mixes (one potion each)."""
    wiring = bootstrap(Config(url, API_KEY))
    need = sum(sizes) * (repeats + 1) + 10  # potions bottled, warm-ups included
    for account, amount in (
        ("shop/ml:red", 100 * need),
        ("shop/potion_capacity", need // 50 + 1),
        ("shop/ml_capacity", need // 100 + 1),
    ):
        services.correct(account, amount, "benchmark stock", account, wiring.uow_factory())
    medians = {}
    for size in sizes:
        seconds = []
        for r in range(repeats + 1):  # the first warms up
            started = time.perf_counter()
            reply = services.deliver_bottles(f"{size}-{r}", [(RED, 1)] * size, wiring.uow_factory())
            seconds.append(time.perf_counter() - started)
            assert reply.status == 204
        medians[size] = statistics.median(seconds[1:])
    wiring.engine.dispose()
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="250,500,1000")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    with fresh_pg_database() as url:
        pg = timings(url, sizes, args.repeats)
    with tempfile.TemporaryDirectory() as folder:
        lite = timings(f"sqlite:///{folder}/shop.db", sizes, args.repeats)
    print(f"bottling N mixes in one posting, service layer, median of {args.repeats}")
    for size in sizes:
        print(f"  {size:>5} mixes  PostgreSQL {pg[size] * 1000:8.1f} ms   SQLite {lite[size] * 1000:8.1f} ms")
    ok = True
    if 500 in pg and 1000 in pg:
        ratio = pg[1000] / pg[500]
        ok = ratio <= 3 and pg[1000] < 0.5
        print(
            f"target: PostgreSQL 1000 / 500 <= 3 and 1000 < 0.5 s -> {ratio:.2f}, {pg[1000]:.3f} s: "
            f"{'met' if ok else 'NOT MET'}"
        )
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
