"""Checkout (or barrel delivery) throughput of the shop with 4 gunicorn workers / a bare Flask + psycopg2 endpoint
doing one INSERT per request, same PostgreSQL, same clients (target >= 0.5).

The shop's checkouts are real: every cart (made beforehand, one potion each) is checked out once: the cart is read
and locked, then the reply, the cart's status, the posting (locking the shop's accounts, with running balances) and
the sale lines go with the COMMIT.

    python bench/checkout_throughput.py [--carts 3000] [--workers 4] [--clients 4] [--route checkout|barrels]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.bare_app import SCHEMA  # noqa: E402
from bench.harness import Client, fire, free_port, fresh_pg_database, gunicorn_shop, serve  # noqa: E402

CUSTOMER = {
    "customer_id": "c",
    "customer_name": "Bench",
    "character_class": "Rogue",
    "character_species": "Gnome",
    "level": 3,
}


def figures(name: str, wall: float, results: list[tuple[int, float]], expected: int) -> float:
    statuses = {s for s, _ in results}
    assert statuses == {expected}, f"{name}: statuses {statuses}"
    latencies = [t for _, t in results]
    rate = len(results) / wall
    print(
        f"  {name:10} {rate:>8,.0f} requests/s   median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p99 {statistics.quantiles(latencies, n=100)[98] * 1000:.2f} ms   ({len(results)} in {wall:.2f} s)"
    )
    return rate


def checkouts(url: str, carts: int, clients: int) -> float:
    client = Client(url)
    stocked = client.post(
        "/ledger/corrections",
        {"account": "shop/potion:RED_POTION", "change": carts, "reason": "bench stock"},
        key="bench-stock",
    )
    assert stocked.status == 200, stocked
    ids = [client.post("/carts/", CUSTOMER).json()["cart_id"] for _ in range(carts)]
    _, made = fire(url, [(f"/carts/{c}/items/RED_POTION", {"quantity": 1}, None) for c in ids], clients)
    assert {s for s, _ in made} == {204}
    wall, results = fire(url, [(f"/carts/{c}/checkout", {"payment": "gold"}, None) for c in ids], clients)
    rate = figures("shop", wall, results, 200)
    audit = client.get("/inventory/audit").json()
    assert audit["number_of_potions"] == 0 and audit["gold"] == 100 + 50 * carts, audit
    return rate


def deliveries(url: str, orders: int, clients: int) -> float:
    barrel = [{"sku": "FREE_RED", "ml_per_barrel": 1, "potion_type": [1, 0, 0, 0], "price": 0, "quantity": 1}]
    wall, results = fire(url, [(f"/barrels/deliver/bench-{i}", barrel, None) for i in range(orders)], clients)
    rate = figures("shop", wall, results, 204)
    audit = Client(url).get("/inventory/audit").json()
    assert audit["ml_in_barrels"] == orders, audit  # each delivered once
    return rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--carts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--clients", type=int, default=4, help="client processes")
    parser.add_argument(
        "--route",
        choices=["checkout", "barrels"],
        default="checkout",
        help="checkouts, or their twin: barrel deliveries (one free 1 ml barrel each)",
    )
    args = parser.parse_args()
    print(f"{args.route} throughput, {args.workers} gunicorn workers each, {args.clients} client processes, PostgreSQL")
    with fresh_pg_database() as url, gunicorn_shop(url, args.workers) as server:
        shop = (checkouts if args.route == "checkout" else deliveries)(server.url, args.carts, args.clients)
    with fresh_pg_database() as url:
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text(SCHEMA))
        engine.dispose()
        port = free_port()
        command = [
            sys.executable,
            "-m",
            "gunicorn",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--no-control-socket",
            "bench.bare_app:app",
        ]
        with serve(
            command, {"DATABASE_URL": url, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}, port
        ) as server:
            wall, results = fire(
                server.url,
                [(f"/carts/{c}/checkout", {"payment": "gold"}, None) for c in range(args.carts)],
                args.clients,
            )
            bare = figures("bare", wall, results, 200)
    print(f"target: shop / bare >= 0.5 -> {shop / bare:.2f} {'met' if shop / bare >= 0.5 else 'NOT MET'}")
    sys.exit(0 if shop / bare >= 0.5 else 1)


if __name__ == "__main__":
    main()
