"""`processed_requests`: the stored reply of every POST that carried a key.

Racing twins: on PostgreSQL `claim` is sent before the unit of work's transaction begins, on its own
(`cauldrons_claim_key`, migration 0013). A key with a stored reply is answered from it, with no lock and nothing
left open: a replay is one round trip. A key without one is locked (a session advisory lock) until the unit of work
ends, released in the round trip of its COMMIT or ROLLBACK; a second request with the same key waits until then, and
sees the first's stored reply. The unique (route, key) constraint is the last word: if two replies were ever
recorded at once, the second INSERT waits for the first and finds the key taken. On SQLite every unit of work holds
the database's write lock from BEGIN IMMEDIATE.

The reply is written with the unit of work's commit (`adapters.writes`): nothing reads it back before then.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select, text

from adapters import orm
from adapters.db import BEFORE_BEGIN, is_postgres
from adapters.repositories import SqlClock
from adapters.writes import Writes
from domain.clock import GameTime, utcnow
from service_layer.idempotency import (
    AbstractProcessedRequests,
    ProcessedRequest,
    Reply,
    RequestAlreadyProcessed,
    RequestKey,
)

# The key's stored reply, or else its lock; and the game's time: one row, before BEGIN (migration 0013).
CLAIM = text("SELECT * FROM cauldrons_claim_key(:route, :key)").execution_options(**{BEFORE_BEGIN: True})
RELEASE = "SELECT pg_advisory_unlock_all()"  # the key's lock: this shop takes no other session advisory locks
RECORD = orm.processed_requests.insert()
KEY_TAKEN = "uq_processed_requests_route_key"


class SqlProcessedRequests(AbstractProcessedRequests):
    def __init__(self, connection: Connection, writes: Writes, clock: SqlClock) -> None:
        self.connection = connection
        self.writes = writes
        self.clock = clock  # told the game's time the claim read with the key (PostgreSQL)

    def claim(self, key: RequestKey) -> ProcessedRequest | None:
        if is_postgres(self.connection):  # one round trip: the reply, or the key's lock; and the game's time
            try:
                row: Any = self.connection.execute(CLAIM, {"route": key.route, "key": key.value}).one()
            except BaseException:
                # A session lock outlives the statement that took it: one cancelled or timed out after the lock was
                # granted still holds it, and the rollback must release it.
                self.writes.release(RELEASE)
                raise
            if row.fingerprint is None:
                self.writes.release(RELEASE)  # the key stays locked until the unit of work ends
            self.clock.heard(GameTime(row.game_day, row.game_hour) if row.game_day is not None else None)
            if row.fingerprint is None:
                return None
        else:
            t = orm.processed_requests
            row = self.connection.execute(
                select(t.c.fingerprint, t.c.status, t.c.body, t.c.content_type).where(
                    t.c.route == key.route, t.c.key == key.value
                )
            ).first()
            if row is None:
                return None
        return ProcessedRequest(key, row.fingerprint, Reply(row.status, bytes(row.body), row.content_type))

    def record(self, key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> None:
        row = {
            "route": key.route,
            "key": key.value,
            "fingerprint": fingerprint,
            "status": reply.status,
            "content_type": reply.content_type,
            "body": reply.body,
            "moved": moved,
            "created_at": utcnow(),
        }
        self.writes.add(RECORD, [row], refusal=(KEY_TAKEN, RequestAlreadyProcessed(key)))
