"""Throughput past saturation: barrel deliveries and checkouts at 1, 4, 16 and 64 concurrent clients against
`cauldrons serve` on PostgreSQL with its default workers, several timed rounds per level, the levels in a different
order each round; while each level runs, one more client reads `GET /catalog/` and its p99 is taken.

Every delivery moves the shop's gold (a 1 ml barrel for 1 gold, a new order id each) and every checkout sells one
potion: both lock the shop's hot accounts. Prints, per level, the median and the range over the rounds, and the
targets: deliveries/s at 16 and 64 clients >= 0.9 x at 4 clients; the round-to-round spread at 16 clients within
+-15 % of its median; the catalog's p99 <= 50 ms while 64 clients post. Exits 1 if a target is missed.

    python bench/saturation.py [--rounds 3] [--seconds 5] [--levels 1,4,16,64] [--workers N]
"""

from __future__ import annotations

import argparse
import itertools
import multiprocessing
import os
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.harness import Client, fresh_pg_database, gunicorn_shop  # noqa: E402

CUSTOMER = ("c", "Bench", "Rogue", "Gnome", 3)
PROCESSES = 4  # client processes (each runs its share of the clients as threads)
RATIO, SPREAD, CATALOG_P99 = 0.9, 0.15, 0.050


@dataclass
class Tally:
    done: int = 0
    statuses: Counter[int] = field(default_factory=Counter)


def _post_for(url: str, route: str, clients: int, seconds: float, first_id: int, start_at: float) -> Tally:
    """`clients` threads posting `route` until `seconds` after `start_at`; ids (order ids, cart ids) from `first_id`,
    `clients` apart per thread."""
    tally, lock = Tally(), threading.Lock()
    client = Client(url)  # one keep-alive connection per thread
    barrel = [{"sku": "ONE_RED", "ml_per_barrel": 1, "potion_type": [1, 0, 0, 0], "price": 1, "quantity": 1}]

    def run(n: int) -> None:
        ids = itertools.count(first_id + n, clients)
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < start_at + seconds:
            i = next(ids)
            if route == "barrels":
                answer = client.post(f"/barrels/deliver/sat-{i}", barrel)
            else:
                answer = client.post(f"/carts/{i}/checkout", {"payment": "gold"})
            with lock:
                tally.statuses[answer.status] += 1
                tally.done += answer.status in (200, 204)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return tally


def _reader(url: str, until: float, out: list[float]) -> None:
    client = Client(url)
    while time.time() < until:
        answer = client.get("/catalog/")
        assert answer.status == 200, answer
        out.append(answer.seconds)


@dataclass
class Level:
    rates: list[float] = field(default_factory=list)
    catalog: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)


BLOCK = 1_000_000  # ids a client process may use in a round: order ids, or the carts made for it


def one_round(url: str, route: str, clients: int, seconds: float, first_id: int, pool: object) -> tuple[float, Tally]:
    """Posts from `clients` clients spread over the client processes for `seconds`; returns (successes/s, tally).
    Client process p numbers its requests from its own block of ids, `first_id + p * BLOCK`."""
    shares = [len(range(p, clients, PROCESSES)) for p in range(PROCESSES)]
    start_at = time.time() + 0.5  # every process starts together
    jobs = [(url, route, n, seconds, first_id + p * BLOCK, start_at) for p, n in enumerate(shares) if n]
    results = pool.starmap(_post_for, jobs)  # type: ignore[attr-defined]
    tally = Tally()
    for r in results:
        tally.done += r.done
        tally.statuses.update(r.statuses)
    return tally.done / seconds, tally


def stock_carts(database_url: str, shop_url: str, blocks: list[tuple[int, int]]) -> None:
    """Carts with one RED_POTION each, with the ids the clients will check out ([start, stop) blocks), and the stock
    to sell them: written straight to the database, as a busy day's open carts."""
    engine = create_engine(database_url)
    total = sum(stop - start for start, stop in blocks)
    with engine.begin() as conn:
        for start, stop in blocks:
            conn.execute(
                text(
                    "INSERT INTO carts (cart_id, customer_id, customer_name, character_class, character_species,"
                    " level, status, created_at) SELECT g, :c, :n, :k, :s, :l, 'open', now()"
                    " FROM generate_series(:a, :b) g"
                ),
                dict(zip("cnksl", CUSTOMER, strict=True), a=start, b=stop - 1),
            )
            conn.execute(
                text(
                    "INSERT INTO cart_items (cart_id, sku, quantity)"
                    " SELECT g, 'RED_POTION', 1 FROM generate_series(:a, :b) g"
                ),
                {"a": start, "b": stop - 1},
            )
        conn.execute(
            text("SELECT setval(pg_get_serial_sequence('carts', 'cart_id'), (SELECT max(cart_id) FROM carts))")
        )
    engine.dispose()
    stocked = Client(shop_url).post(
        "/ledger/corrections",
        {"account": "shop/potion:RED_POTION", "change": total, "reason": "bench stock"},
        key=f"saturation-stock-{blocks[0][0]}",
    )
    assert stocked.status == 200, stocked


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--levels", default="1,4,16,64")
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1, help="gunicorn workers")
    args = parser.parse_args()
    levels = [int(n) for n in args.levels.split(",")]
    figures: dict[tuple[str, int], Level] = {}
    with (
        fresh_pg_database() as url,
        gunicorn_shop(url, args.workers) as server,
        multiprocessing.get_context("spawn").Pool(PROCESSES) as pool,
    ):
        shop = Client(server.url)
        for account, change in (("shop/gold", 1_000_000), ("shop/ml_capacity", 1_000)):  # room for every delivery
            answer = shop.post(
                "/ledger/corrections", {"account": account, "change": change, "reason": "bench"}, key=account
            )
            assert answer.status == 200, answer
        next_id = 1
        for round_ in range(args.rounds):
            order = levels[round_ % len(levels) :] + levels[: round_ % len(levels)]
            for route, clients in itertools.product(("barrels", "checkout"), order):
                level = figures.setdefault((route, clients), Level())
                if route == "checkout":  # enough carts for any pace: 2,000 a second a client process, at most
                    room = int(2_000 * args.seconds) + 1
                    stock_carts(
                        url, server.url, [(next_id + p * BLOCK, next_id + p * BLOCK + room) for p in range(PROCESSES)]
                    )
                catalog: list[float] = []
                reader = threading.Thread(target=_reader, args=(server.url, time.time() + args.seconds + 0.5, catalog))
                reader.start()
                rate, tally = one_round(server.url, route, clients, args.seconds, next_id, pool)
                reader.join()
                next_id += PROCESSES * BLOCK
                level.rates.append(rate)
                level.catalog.extend(catalog)
                level.statuses.update(tally.statuses)
                print(
                    f"  round {round_ + 1} {route:8} {clients:>3} clients: {rate:8,.0f}/s  {dict(tally.statuses)}",
                    flush=True,
                )
    print(f"\nPostgreSQL, {args.workers} workers, {args.rounds} rounds of {args.seconds:g} s per level")
    print(f"{'route':9} {'clients':>7} {'median/s':>9} {'range':>15} {'spread':>7} {'catalog p99':>12}  statuses")
    met = True
    for (route, clients), level in sorted(figures.items()):
        median = statistics.median(level.rates)
        spread = max(abs(r - median) for r in level.rates) / median if median else float("inf")
        p99 = statistics.quantiles(level.catalog, n=100)[98] if len(level.catalog) > 1 else float("nan")
        low, high = min(level.rates), max(level.rates)
        print(
            f"{route:9} {clients:>7} {median:>9,.0f} {low:>7,.0f}-{high:<7,.0f} {spread:>6.0%} {p99 * 1000:>9.1f} ms"
            f"  {dict(level.statuses)}"
        )
    for route in ("barrels", "checkout"):
        if (route, 4) not in figures:
            continue
        at4 = statistics.median(figures[route, 4].rates)
        for clients in (16, 64):
            if (route, clients) in figures:
                ratio = statistics.median(figures[route, clients].rates) / at4
                ok = ratio >= RATIO
                met &= ok or route != "barrels"
                print(f"target: {route} at {clients} / at 4 >= {RATIO} -> {ratio:.2f} {'met' if ok else 'NOT MET'}")
    if ("barrels", 16) in figures:
        rates = figures["barrels", 16].rates
        spread = max(abs(r - statistics.median(rates)) for r in rates) / statistics.median(rates)
        met &= spread <= SPREAD
        verdict = "met" if spread <= SPREAD else "NOT MET"
        print(f"target: barrels at 16, spread within +-{SPREAD:.0%} -> {spread:.0%} {verdict}")
    if ("barrels", 64) in figures:
        p99 = statistics.quantiles(figures["barrels", 64].catalog, n=100)[98]
        met &= p99 <= CATALOG_P99
        verdict = "met" if p99 <= CATALOG_P99 else "NOT MET"
        print(f"target: catalog p99 while 64 post deliveries <= 50 ms -> {p99 * 1000:.1f} ms {verdict}")
    sys.exit(0 if met else 1)


if __name__ == "__main__":
    main()
