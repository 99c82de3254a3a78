"""The small stress and the crash tests: a real gunicorn with three workers on PostgreSQL, hit from outside."""

from __future__ import annotations

import os
import random
import signal
import threading
import time
from collections.abc import Callable

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


def _waiting_on_the_reply(conn: Connection) -> int | None:
    """The client port of the backend waiting to insert a reply, if one is (pg_stat_activity is read afresh). The
    reply goes with the commit's other writes, after the delivery's posting, in one round trip."""
    port = conn.execute(
        text(
            "SELECT client_port FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND query LIKE '%INSERT INTO processed_requests%'"
        )
    ).scalar()
    conn.rollback()  # statistics are a snapshot per transaction
    return port


def _books(conn: Connection, key: str) -> tuple[int, int, bool]:
    """(transactions booked for the key, stored replies for it, ledger verify ok)."""
    booked = conn.execute(text("SELECT COUNT(*) FROM account_transactions WHERE request_key = :k"), {"k": key})
    replies = conn.execute(text("SELECT COUNT(*) FROM processed_requests WHERE key = :k"), {"k": key})
    return booked.scalar_one(), replies.scalar_one(), verify(conn).ok


def test_a_worker_killed_mid_transaction_leaves_nothing_and_the_retry_applies_once(pg_url):
    engine = create_engine(pg_url)
    with (
        shop_process(pg_url, API_KEY, "--workers", str(WORKERS)) as server,
        engine.connect() as blocker,
        engine.connect() as watcher,
    ):
        client = HttpTransport(server.url, API_KEY)
        # Hold the reply's row: the worker will write its ledger entries and then wait, mid-transaction.
        blocker.execute(
            text(
                "INSERT INTO processed_requests (route, key, fingerprint, status, body, created_at) "
                "VALUES ('barrels/deliver', 'crash-1', 'x', 204, '', now())"
            )
        )
        outcome: list[object] = []
        request = threading.Thread(
            target=lambda: outcome.append(
                _try(lambda: HttpTransport(server.url, API_KEY).post("/barrels/deliver/crash-1", _barrels(40)))
            )
        )
        request.start()
        port = _wait_for(lambda: _waiting_on_the_reply(watcher))
        victim = server.worker_using(port)  # type: ignore[arg-type]  # its database connection's port
        os.kill(victim, signal.SIGKILL)
        request.join(30)
        assert isinstance(outcome[0], OSError), outcome  # the client never got an answer
        blocker.rollback()  # the dead worker's transaction can now end: it is rolled back, never committed

        answer = _until_answered(lambda: client.post("/barrels/deliver/crash-1", _barrels(40)))
        replay = client.post("/barrels/deliver/crash-1", _barrels(40))
        assert (answer.status, replay.status, replay.headers.get("Idempotent-Replayed")) == (204, 204, "true")
        assert client.get("/inventory/audit").json() == {"number_of_potions": 0, "ml_in_barrels": 100, "gold": 60}
        assert _books(watcher, "crash-1") == (1, 1, True)
        _wait_for(lambda: len(server.workers()) == WORKERS and victim not in server.workers())
    engine.dispose()


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


def test_a_retry_reaching_another_worker_is_answered_from_the_replies_the_workers_share(pg_url):
    """The retries go to the worker that did not answer first, while the stored replies' table is locked in the
    database: only the replies the workers share in memory can answer them, byte for byte, within the timeout."""
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
        elsewhere = server.client_elsewhere(shop, timeout=5)  # the database, were it asked, would wait 10 s
        engine = create_engine(pg_url)
        with engine.connect() as lock:
            lock.execute(text("LOCK TABLE processed_requests IN ACCESS EXCLUSIVE MODE"))
            again = elsewhere.post("/carts/", cart, key="shared-cart")
            redelivered = elsewhere.post("/barrels/deliver/shared", _barrels(price=0))
            lock.rollback()
        audit = shop.get("/inventory/audit").json()
        engine.dispose()
    assert (opened.status, delivered.status) == (200, 204)
    assert (again.status, again.body, again.replayed) == (200, opened.body, True)
    assert (redelivered.status, redelivered.body, redelivered.replayed) == (204, b"", True)
    assert audit["ml_in_barrels"] == 100  # delivered once
