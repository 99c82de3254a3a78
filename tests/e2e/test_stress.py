"""The small stress and the crash tests: a real gunicorn with three workers on PostgreSQL, hit from outside."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import cast

import pytest
from sqlalchemy import Connection, create_engine, text

from adapters.verification import verify
from cauldrons.exchange.stress import stress
from cauldrons.exchange.transport import Answer, HttpTransport
from cauldrons.testing import shop_process
from tests.helpers import API_KEY

WORKERS = 3


def test_racing_retries_and_changed_payloads_take_effect_once_per_key(pg_url):
    with shop_process(pg_url, API_KEY, "--workers", str(WORKERS)) as server:
        verdict = stress(server.url, API_KEY, pg_url, clients=3, ops_per_client=30, seed=7)
    assert verdict.ok, verdict.problems
    # the run really raced: keys applied, copies replayed, changed payloads refused, and no 5xx
    assert verdict.applied > 30 and verdict.replayed > 100 and verdict.mismatches_refused > 0
    assert not any(status >= 500 or status == 0 for status in verdict.statuses)


def _barrels(price: int, ml: int = 100) -> list[dict[str, object]]:
    return [
        {"sku": "SMALL_RED_BARREL", "ml_per_barrel": ml, "potion_type": [1, 0, 0, 0], "price": price, "quantity": 1}
    ]


def _until_answered(call: Callable[[], Answer], seconds: float = 60) -> Answer:
    """Retry with the same key until the server answers (a lost connection is not an answer)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return call()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _wait_for(condition: Callable[[], object], seconds: float = 30) -> object:
    deadline = time.monotonic() + seconds
    while not (found := condition()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def _waiting_for_sale_lines(conn: Connection) -> tuple[int, int] | None:
    """(pid, client port) of the backend waiting for a lock on `sale_lines`, if one is (read afresh: pg_stat_activity
    is a snapshot per transaction)."""
    row = conn.execute(
        text(
            "SELECT a.pid, a.client_port FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
            "WHERE l.relation = 'sale_lines'::regclass AND NOT l.granted"
        )
    ).first()
    conn.rollback()
    return (row.pid, row.client_port) if row else None


def _alive(conn: Connection, pid: int) -> bool:
    alive = conn.execute(text("SELECT count(*) FROM pg_stat_activity WHERE pid = :pid"), {"pid": pid}).scalar_one()
    conn.rollback()
    return bool(alive)


def _ids_drawn(conn: Connection) -> tuple[int, int]:
    """The last ids drawn for transactions and for entries: sequences move outside transactions, so these count the
    rows a transaction inserted even while it is open, or after it was rolled back."""
    drawn = conn.execute(
        text(
            "SELECT pg_sequence_last_value(pg_get_serial_sequence('account_transactions', 'id')::regclass), "
            "pg_sequence_last_value(pg_get_serial_sequence('account_ledger_entries', 'id')::regclass)"
        )
    ).one()
    conn.rollback()
    return drawn[0], drawn[1]


def _committed(conn: Connection, cart_id: int) -> tuple[int, int, int, int]:
    """(transactions, entries, stored replies, sale lines) committed for the checkout of `cart_id`."""
    counts = conn.execute(
        text(
            "SELECT (SELECT count(*) FROM account_transactions WHERE request_route = 'carts/checkout' "
            "AND request_key = :k), (SELECT count(*) FROM account_ledger_entries e JOIN account_transactions t "
            "ON t.id = e.account_transaction_id WHERE t.request_route = 'carts/checkout' AND t.request_key = :k), "
            "(SELECT count(*) FROM processed_requests WHERE route = 'carts/checkout' AND key = :k), "
            "(SELECT count(*) FROM sale_lines WHERE cart_id = :cart)"
        ),
        {"k": str(cart_id), "cart": cart_id},
    ).one()
    conn.rollback()
    return counts[0], counts[1], counts[2], counts[3]


@dataclass
class KilledCheckout:
    """What a checkout whose worker was killed between its posting and its COMMIT left, and what its retry got."""

    written: set[str]  # tables the killed attempt's open transaction had inserted into or updated, when it was killed
    ids_drawn: tuple[int, int]  # transactions and entries the killed attempt inserted (ids drawn while it ran)
    client_got: object  # what the killed request's client got: an OSError, never an answer
    left: tuple[int, int, int, int]  # committed once its backend ended: transactions, entries, replies, sale lines
    retry: Answer
    replay: Answer
    audit: dict[str, int]
    entries: int  # the entries of the sale that stands
    books_ok: bool  # `ledger verify`
    keys_booked_twice: list[tuple[str, str]]


def _checkout_killed_between_posting_and_commit(pg_url: str, notices_dead_clients: bool) -> KilledCheckout:
    """Sell one red potion; kill -9 the worker serving the checkout while PostgreSQL, which has its whole batch (the
    reply, the cart's status, the posting, the sale lines, COMMIT), has run the posting and waits to insert the sale
    lines on a lock this test holds; then release the lock, and retry the checkout with the same key.

    PostgreSQL runs a query it has received to its end, whether or not its client is still there: unless the
    database checks the client's connection while it runs (`client_connection_check_interval`, off by default and
    in the shop), the COMMIT the dead worker sent still comes. With `notices_dead_clients` this test's database
    checks every 50 ms: the backend sees the worker gone while it waits, and ends, its transaction rolled back."""
    engine = create_engine(pg_url)
    if notices_dead_clients:
        with engine.connect() as conn:  # this database only, for the connections made from now on
            conn.execute(text(f'ALTER DATABASE "{engine.url.database}" SET client_connection_check_interval = 50'))
            conn.commit()
    with (
        shop_process(pg_url, API_KEY, "--workers", str(WORKERS)) as server,
        engine.connect() as blocker,
        engine.connect() as watcher,
    ):
        client = HttpTransport(server.url, API_KEY)
        stocked = client.post(
            "/ledger/corrections", {"account": "shop/potion:RED_POTION", "change": 1, "reason": "stock"}, key="stock"
        )
        cart_id = client.post("/carts/", _CUSTOMER, key="crash-cart").json()["cart_id"]
        item = client.post(f"/carts/{cart_id}/items/RED_POTION", {"quantity": 1})
        assert (stocked.status, item.status) == (200, 204)
        before = _ids_drawn(watcher)
        # The sale lines' INSERT, the last statement before COMMIT, waits for this lock: the statements before it in
        # the batch (the reply, the cart's status, the posting) run; the sale lines and COMMIT wait.
        blocker.execute(text("LOCK TABLE sale_lines IN SHARE ROW EXCLUSIVE MODE"))
        outcome: list[object] = []
        checkout = f"/carts/{cart_id}/checkout"
        request = threading.Thread(
            target=lambda: outcome.append(
                _try(lambda: HttpTransport(server.url, API_KEY).post(checkout, {"payment": "gold"}))
            )
        )
        request.start()
        pid, port = cast(tuple[int, int], _wait_for(lambda: _waiting_for_sale_lines(watcher)))
        # What its open transaction has written: tables it holds RowExclusiveLock on, and the ids it drew.
        written = set(
            watcher.execute(
                text(
                    "SELECT c.relname FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE l.pid = :pid AND l.granted AND l.mode = 'RowExclusiveLock' AND c.relkind = 'r'"
                ),
                {"pid": pid},
            ).scalars()
        )
        watcher.rollback()
        after = _ids_drawn(watcher)
        victim = server.worker_using(port)  # its database connection's port
        os.kill(victim, signal.SIGKILL)
        request.join(30)
        if notices_dead_clients:
            _wait_for(lambda: not _alive(watcher, pid))  # gone while the lock is still held: it never reached COMMIT
        else:
            time.sleep(0.3)  # time enough to notice, were it checking: it still waits, its batch not run to the end
            assert _alive(watcher, pid) and _waiting_for_sale_lines(watcher) == (pid, port)
        blocker.rollback()  # the lock goes
        _wait_for(lambda: not _alive(watcher, pid))
        left = _committed(watcher, cart_id)

        retry = _until_answered(lambda: client.post(checkout, {"payment": "gold"}))
        replay = client.post(checkout, {"payment": "gold"})
        audit = client.get("/inventory/audit").json()
        _wait_for(lambda: len(server.workers()) == WORKERS and victim not in server.workers())  # replaced
        standing = _committed(watcher, cart_id)
        assert standing[0] == 1 and standing[2] == 1, standing  # one sale, one reply: whichever attempt made them
        killed = KilledCheckout(
            written=written,
            ids_drawn=(after[0] - before[0], after[1] - before[1]),
            client_got=outcome[0],
            left=left,
            retry=retry,
            replay=replay,
            audit=audit,
            entries=standing[1],
            books_ok=verify(watcher).ok,
            keys_booked_twice=[
                (route, key)
                for route, key in watcher.execute(
                    text(
                        "SELECT request_route, request_key FROM account_transactions WHERE request_key IS NOT NULL "
                        "GROUP BY 1, 2 HAVING count(*) > 1"
                    )
                )
            ],
        )
    engine.dispose()
    return killed


_CUSTOMER = {
    "customer_id": "c",
    "customer_name": "Ann",
    "character_class": "Rogue",
    "character_species": "Gnome",
    "level": 3,
}
SOLD = {"total_potions_bought": 1, "total_gold_paid": 50}


def _killed_between_posting_and_commit(killed: KilledCheckout) -> None:
    """The worker was killed with the posting's entries written in its open transaction, before its COMMIT: its
    transaction had inserted the transaction and its entries (and the reply, and updated the cart), and drew the
    ids of one transaction and of as many entries as the sale that stands has; the client got no answer."""
    assert {"processed_requests", "carts", "account_transactions", "account_ledger_entries"} <= killed.written
    assert "sale_lines" not in killed.written
    assert killed.ids_drawn == (1, killed.entries) and killed.entries >= 2
    assert isinstance(killed.client_got, OSError), killed.client_got


def test_a_worker_killed_after_its_posting_and_before_its_commit_leaves_nothing_and_the_retry_applies_once(pg_url):
    """Entries written, commit lost: the database notices the dead worker before COMMIT and rolls back its
    transaction, entries, reply, cart status and all. The retry (on any worker) checks out the cart anew, once."""
    killed = _checkout_killed_between_posting_and_commit(pg_url, notices_dead_clients=True)
    _killed_between_posting_and_commit(killed)
    assert killed.left == (0, 0, 0, 0)  # no transaction, no entries, no reply, no sale lines
    assert (killed.retry.status, killed.retry.replayed, killed.retry.json()) == (200, False, SOLD)  # applied now
    assert (killed.replay.status, killed.replay.replayed, killed.replay.body) == (200, True, killed.retry.body)
    assert killed.audit == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 150}  # sold once
    assert killed.books_ok and killed.keys_booked_twice == []


def test_a_worker_killed_after_sending_its_commit_still_commits_the_whole_request_once(pg_url):
    """The same kill, with PostgreSQL's default (the shop's): the backend does not look at its client while it
    runs the batch, so the COMMIT the dead worker sent with its writes still comes once the lock goes. The request
    took effect whole (entries, reply, sale lines), and the retry is answered with its stored reply."""
    killed = _checkout_killed_between_posting_and_commit(pg_url, notices_dead_clients=False)
    _killed_between_posting_and_commit(killed)
    assert killed.left == (1, killed.entries, 1, 1)  # all of it, committed by the dead worker's batch
    assert (killed.retry.status, killed.retry.replayed, killed.retry.json()) == (200, True, SOLD)
    assert (killed.replay.status, killed.replay.replayed, killed.replay.body) == (200, True, killed.retry.body)
    assert killed.audit == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 150}
    assert killed.books_ok and killed.keys_booked_twice == []


def _try(call: Callable[[], Answer]) -> Answer | OSError:
    try:
        return call()
    except OSError as err:
        return err


def test_workers_killed_under_load_lose_nothing_and_apply_nothing_twice(pg_url):
    orders = [f"load-{i}" for i in range(120)]
    lost: list[str] = []
    refused: list[Answer] = []
    with shop_process(pg_url, API_KEY, "--workers", str(WORKERS)) as server:
        HttpTransport(server.url, API_KEY).post(
            "/ledger/corrections", {"account": "shop/gold", "change": 10_000, "reason": "float"}, key="float"
        )

        def deliver(mine: list[str]) -> None:
            client = HttpTransport(server.url, API_KEY)
            for order in mine:
                answer = _try(lambda o=order: client.post(f"/barrels/deliver/{o}", _barrels(3, ml=50)))
                if isinstance(answer, OSError):
                    lost.append(order)
                    answer = _until_answered(lambda o=order: client.post(f"/barrels/deliver/{o}", _barrels(3, ml=50)))
                if answer.status != 204:
                    refused.append(answer)

        senders = [threading.Thread(target=deliver, args=(orders[i::6],)) for i in range(6)]
        for sender in senders:
            sender.start()
        rng = random.Random(3)
        for _ in range(3):  # kill a worker three times while the senders run
            time.sleep(0.15)
            os.kill(rng.choice(server.workers()), signal.SIGKILL)
        for sender in senders:
            sender.join(120)
        audit = HttpTransport(server.url, API_KEY).get("/inventory/audit").json()
    engine = create_engine(pg_url)
    with engine.connect() as conn:
        per_key = dict(
            conn.execute(
                text(
                    "SELECT request_key, COUNT(*) FROM account_transactions "
                    "WHERE request_route = 'barrels/deliver' GROUP BY 1"
                )
            ).all()
        )
        report = verify(conn)
    engine.dispose()
    assert refused == []
    assert per_key == {order: 1 for order in orders}
    assert audit == {"number_of_potions": 0, "ml_in_barrels": 50 * len(orders), "gold": 10_100 - 3 * len(orders)}
    assert report.ok, report.lines()
    print(f"{len(lost)} requests lost to killed workers, all retried")


pytestmark = pytest.mark.postgres


def test_a_retry_reaching_another_worker_is_answered_with_the_stored_reply(pg_url):
    """The retries go to the worker that did not answer first, which knows nothing of the replies: each guesses its
    key new, finds it taken at the commit (or its cart's sale done), and replays the stored reply byte for byte;
    nothing is applied twice."""
    cart = {
        "customer_id": "c",
        "customer_name": "Ann",
        "character_class": "Rogue",
        "character_species": "Gnome",
        "level": 3,
    }
    with shop_process(pg_url, API_KEY, "--workers", "2") as server:
        shop = HttpTransport(server.url, API_KEY)
        opened = shop.post("/carts/", cart, key="shared-cart")
        delivered = shop.post("/barrels/deliver/shared", _barrels(price=0))
        elsewhere = server.client_elsewhere(shop, timeout=5)
        again = elsewhere.post("/carts/", cart, key="shared-cart")
        redelivered = elsewhere.post("/barrels/deliver/shared", _barrels(price=0))
        audit = shop.get("/inventory/audit").json()
    assert (opened.status, delivered.status) == (200, 204)
    assert (again.status, again.body, again.replayed) == (200, opened.body, True)
    assert (redelivered.status, redelivered.body, redelivered.replayed) == (204, b"", True)
    assert audit["ml_in_barrels"] == 100  # delivered once
