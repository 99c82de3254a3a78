"""When PostgreSQL drops the connection serving a request, or cancels its statement (a statement timeout, an
operator's cancel), the client is told to retry (503 with Retry-After), the log gets one line, the next request is
served at once, and a retry with the same key applies exactly once."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import text

from cauldrons.app import create_app
from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from tests.helpers import API_KEY, SMALL_RED, barrel_json
from tests.routes.shop_client import ShopClient, assert_error


@pytest.fixture
def pg_shop(pg_url: str) -> Iterator[tuple[ShopClient, object]]:
    config = Config(pg_url, API_KEY)
    wiring = bootstrap(config)
    yield ShopClient(create_app(config, uow_factory=wiring.uow_factory).test_client()), wiring.engine
    wiring.engine.dispose()


def _waiting_backend(conn) -> int:  # type: ignore[no-untyped-def]
    """The pid of the shop's connection that waits on a lock in this database."""
    for _ in range(200):
        conn.execute(text("SELECT pg_stat_clear_snapshot()"))  # else one snapshot of the activity per transaction
        pid = conn.execute(
            text(
                "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                "AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
        ).scalar()
        if pid is not None:
            return int(pid)
        time.sleep(0.05)
    raise AssertionError("the request never waited on the lock")


@pytest.mark.parametrize(
    "interrupt",
    ["pg_terminate_backend", "pg_cancel_backend"],  # the connection dropped; the statement cancelled (57014)
)
def test_a_dropped_database_connection_or_a_cancelled_statement_is_a_503_and_the_retry_applies_once(
    pg_shop, caplog, interrupt
):
    shop, engine = pg_shop
    path, body = "/barrels/deliver/lost-1", [barrel_json(SMALL_RED)]
    answers = []
    with engine.connect() as holder:  # lock the shop's gold, so the request's posting waits for it; then interrupt
        holder.execute(text("SELECT 1 FROM accounts WHERE owner = 'shop' AND commodity = 'gold' FOR UPDATE"))
        request = threading.Thread(target=lambda: answers.append(shop.post(path, json=body)))
        with caplog.at_level(logging.INFO):
            request.start()
            holder.execute(text(f"SELECT {interrupt}(:pid)"), {"pid": _waiting_backend(holder)})
            request.join(timeout=30)
        holder.rollback()
    (lost,) = answers
    assert_error(lost, 503, "database_unavailable")
    assert lost.headers["Retry-After"] == "1"
    logged = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(logged) == 1 and logged[0].exc_info is None and "database" in logged[0].getMessage()
    retried = shop.post(path, json=body)
    assert retried.status_code == 204 and "Idempotent-Replayed" not in retried.headers
    assert shop.post(path, json=body).headers["Idempotent-Replayed"] == "true"
    assert shop.audit()["gold"] == 100 - SMALL_RED.price  # applied exactly once
