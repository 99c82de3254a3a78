"""The hot-account ceiling: how many postings per second PostgreSQL itself commits through one account, with the
shop's own triggers and durable commits, against the shop's checkouts per second (target: shop / ceiling >= 1.0,
which only group commit can reach: every checkout moves `shop/gold` and `customers/gold`).

pgbench posts, from `--clients` connections for `--seconds`, the smallest transaction the shop's books accept: lock
the two gold accounts, then one statement appending a transaction and its two entries with their running balances
(so the running-balance trigger and the per-statement balance check run), then COMMIT. The shop's figure is
checkouts over HTTP as in `bench/checkout_throughput.py` (`cauldrons serve --workers N`, the same client count).
With `--batches`, pgbench also posts several transactions per commit: the most that group commit of that many
requests could reach on this database.

    python bench/hot_account.py [--clients 4] [--seconds 10] [--carts 3000] [--workers 4] [--batches 1,4,16]
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from bench.checkout_throughput import CUSTOMER, figures  # noqa: E402
from bench.harness import API_KEY, Client, fire, fresh_pg_database, gunicorn_shop  # noqa: E402
from cauldrons.bootstrap import bootstrap  # noqa: E402
from cauldrons.config import Config  # noqa: E402

LOCK = "SELECT id FROM accounts WHERE id IN ({shop}, {customers}) ORDER BY id FOR UPDATE;\n"
POSTING = """\
WITH txn AS (
    INSERT INTO account_transactions (created_at, kind, description)
    VALUES (timezone('utc', clock_timestamp()), 'pgbench', 'one gold through the hot account')
    RETURNING id, created_at
)
INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, balance_after, created_at,
                                    non_negative)
SELECT a.id, txn.id, a.change,
       COALESCE((SELECT x.balance_after FROM account_ledger_entries x WHERE x.account_id = a.id
                  ORDER BY x.created_at DESC, x.id DESC LIMIT 1), 0) + a.change,
       txn.created_at, a.shop
  FROM txn, (VALUES ({shop}::bigint, 1, true, 1), ({customers}::bigint, -1, false, 2)) AS a(id, change, shop, n)
 ORDER BY a.n;
"""


def ceiling(url: str, clients: int, seconds: int, batch: int = 1) -> float:
    """pgbench's committed postings per second through shop/gold and customers/gold, `batch` postings per database
    transaction: what group commit of `batch` requests could reach at best."""
    bootstrap(Config(url, API_KEY)).engine.dispose()
    engine = create_engine(url)
    with engine.begin() as conn:
        ids: dict[str, int] = dict(conn.execute(text("SELECT owner, id FROM accounts WHERE commodity = 'gold'")).all())
        if "customers" not in ids:
            conn.execute(text("INSERT INTO accounts (owner, commodity) VALUES ('customers', 'gold')"))
            ids = dict(conn.execute(text("SELECT owner, id FROM accounts WHERE commodity = 'gold'")).all())
    engine.dispose()
    target = make_url(url)
    with tempfile.NamedTemporaryFile("w", suffix=".sql") as script:
        script.write("BEGIN;\n" + LOCK.format(shop=ids["shop"], customers=ids["customers"]))
        script.write(POSTING.format(shop=ids["shop"], customers=ids["customers"]) * batch + "COMMIT;\n")
        script.flush()
        run = subprocess.run(
            [
                "pgbench",
                "-n",
                "-f",
                script.name,
                "-c",
                str(clients),
                "-j",
                str(min(clients, 2)),
                "-T",
                str(seconds),
                "-h",
                target.host or "127.0.0.1",
                "-p",
                str(target.port or 5432),
                "-U",
                target.username or "postgres",
                target.database or "postgres",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
    found = re.search(r"tps = ([0-9.]+)", run.stdout)
    if not found or not re.search(r"number of failed transactions: 0 ", run.stdout):
        raise RuntimeError(f"pgbench did not run cleanly:\n{run.stdout}\n{run.stderr}")
    return float(found.group(1)) * batch


def shop_rate(carts: int, workers: int, clients: int) -> float:
    with fresh_pg_database() as url, gunicorn_shop(url, workers) as server:
        client = Client(server.url)
        stock = {"account": "shop/potion:RED_POTION", "change": carts, "reason": "bench stock"}
        assert client.post("/ledger/corrections", stock, key="bench-stock").status == 200
        ids = [client.post("/carts/", CUSTOMER).json()["cart_id"] for _ in range(carts)]
        _, made = fire(server.url, [(f"/carts/{c}/items/RED_POTION", {"quantity": 1}, None) for c in ids], clients)
        assert {s for s, _ in made} == {204}
        wall, results = fire(server.url, [(f"/carts/{c}/checkout", {"payment": "gold"}, None) for c in ids], clients)
        return figures("shop", wall, results, 200)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--carts", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--batches", default="1,4,16", help="postings per commit to measure the ceiling with (group commit's reach)"
    )
    args = parser.parse_args()
    print(f"hot account: {args.clients} clients; the shop with {args.workers} gunicorn workers, PostgreSQL")
    shop = shop_rate(args.carts, args.workers, args.clients)
    ceilings = {}
    for batch in (int(b) for b in args.batches.split(",")):
        with fresh_pg_database() as url:
            ceilings[batch] = ceiling(url, args.clients, args.seconds, batch)
        print(
            f"  pgbench      {ceilings[batch]:>8,.0f} postings/s through shop/gold and customers/gold, "
            f"{batch} per commit ({args.seconds} s)"
        )
    ratio = shop / ceilings[1]
    print(f"target: shop / ceiling >= 1.0 -> {ratio:.2f} {'met' if ratio >= 1.0 else 'NOT MET'}")
    sys.exit(0 if ratio >= 1.0 else 1)


if __name__ == "__main__":
    main()
