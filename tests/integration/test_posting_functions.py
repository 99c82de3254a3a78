"""The PostgreSQL posting functions of migration 0006, on their own: each waits for the lock it takes and then
reads what the holder committed."""

from __future__ import annotations

import threading
import time
from datetime import datetime

import pytest
from sqlalchemy import create_engine, exc, text

from service_layer import services
from tests.helpers import SMALL_RED

LATER = datetime(2030, 1, 1)  # after anything the shop wrote, so the raw entries keep each account's time order


@pytest.fixture
def engine(pg_url):  # type: ignore[no-untyped-def]
    from cauldrons.bootstrap import bootstrap
    from cauldrons.config import Config

    wiring = bootstrap(Config(pg_url, "k"))
    services.deliver_barrels("1", [SMALL_RED], wiring.uow_factory())
    wiring.engine.dispose()
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def test_claim_returns_nothing_for_a_new_key_and_the_stored_reply_for_a_used_one(engine):
    with engine.connect() as conn:
        assert conn.execute(text("SELECT * FROM cauldrons_claim('barrels/deliver', 'new')")).all() == []
        (row,) = conn.execute(text("SELECT * FROM cauldrons_claim('barrels/deliver', '1')")).all()
    assert row.status == 204 and bytes(row.body) == b"" and len(row.fingerprint) == 64


def test_a_twin_claim_waits_for_the_holder_and_then_sees_its_reply(engine):
    seen: list[object] = []
    with engine.connect() as holder:
        holder.execute(text("SELECT * FROM cauldrons_claim('barrels/deliver', 'twin')"))

        def twin() -> None:
            with engine.connect() as conn:
                seen.append(conn.execute(text("SELECT * FROM cauldrons_claim('barrels/deliver', 'twin')")).all())

        waiting = threading.Thread(target=twin)
        waiting.start()
        time.sleep(0.3)
        assert seen == []  # still waiting for the key
        holder.execute(
            text(
                "INSERT INTO processed_requests (route, key, fingerprint, status, body, created_at, moved) "
                "VALUES ('barrels/deliver', 'twin', 'fp', 204, '', now(), true)"
            )
        )
        holder.commit()
        waiting.join(10)
    assert [(r.fingerprint, r.status) for r in seen[0]] == [("fp", 204)]  # type: ignore[attr-defined]


def test_lock_returns_the_accounts_balances_and_with_the_whole_shop_every_shop_account(engine):
    with engine.connect() as conn:
        gold = conn.execute(text("SELECT id FROM accounts WHERE owner = 'suppliers' AND commodity = 'gold'")).scalar()
        own = conn.execute(
            text("SELECT owner, commodity, balance FROM cauldrons_lock(ARRAY[:id]::bigint[], false)"), {"id": gold}
        ).all()
        whole = conn.execute(
            text("SELECT owner, commodity, balance FROM cauldrons_lock(ARRAY[:id]::bigint[], true)"), {"id": gold}
        ).all()
    assert [tuple(r) for r in own] == [("suppliers", "gold", 100)]
    assert ("suppliers", "gold", 100) in [tuple(r) for r in whole]
    assert {(o, c, b) for o, c, b in whole if o == "shop"} >= {("shop", "gold", 0), ("shop", "ml:red", 500)}


def test_lock_holds_the_rows_and_a_waiter_reads_the_balance_the_holder_committed(engine):
    with engine.connect() as holder, engine.connect() as other:
        holder.execute(text("SELECT * FROM cauldrons_lock(ARRAY[]::bigint[], true)"))  # every shop account
        with pytest.raises(exc.OperationalError, match="could not obtain lock"):
            other.execute(text("SELECT id FROM accounts WHERE owner = 'shop' FOR UPDATE NOWAIT"))
        other.rollback()
        seen: list[int] = []

        def waiter() -> None:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT commodity, balance FROM cauldrons_lock(ARRAY[]::bigint[], true)"))
                seen.extend(b for c, b in rows if c == "ml:red")

        waiting = threading.Thread(target=waiter)
        waiting.start()
        time.sleep(0.3)
        assert seen == []  # waiting for the holder's locks
        # the holder moves 1 ml of red from the world to the shop, and commits
        ids = dict(holder.execute(text("SELECT owner, id FROM accounts WHERE commodity = 'ml:red'")).all())
        txn = holder.execute(
            text(
                "INSERT INTO account_transactions (created_at, kind, description) "
                "VALUES (:at, 'test', 'one ml') RETURNING id"
            ),
            {"at": LATER},
        ).scalar_one()
        holder.execute(
            text(
                "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, "
                "balance_after, created_at, non_negative) VALUES (:shop, :t, 1, 501, :at, true), "
                "(:world, :t, -1, -1, :at, false)"
            ),
            {"shop": ids["shop"], "world": ids["world"], "t": txn, "at": LATER},
        )
        holder.commit()
        waiting.join(10)
    assert seen == [501]
