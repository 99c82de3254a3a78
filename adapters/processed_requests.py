"""`processed_requests`: the stored reply of every POST that carried a key.

Racing twins: the unique (route, key) constraint is the last word. On PostgreSQL a request's first attempt guesses
its key new and claims nothing: its reply's INSERT, sent with the COMMIT, waits for a twin's and then finds the key
taken (RequestAlreadyProcessed), and the service claims the key and replays the twin's reply. So does a guessed
attempt the domain refused: the refusal may be the key's own earlier success (the cart it checked out).

A real claim (every later attempt) is sent before the unit of work's transaction begins, on its own
(`cauldrons_claim_key`, migration 0013). A key with a stored reply is answered from it, with no lock and nothing
left open. A key without one is locked (a session advisory lock) until the unit of work ends, released in the round
trip of its COMMIT or ROLLBACK; a second claim of the same key waits until then, and sees the first's stored reply.
On SQLite every unit of work holds the database's write lock from BEGIN IMMEDIATE, and claims.

The reply is written with the unit of work's commit (`adapters.writes`): nothing reads it back before then.

A reply never changes or goes once committed (migration 0002's triggers refuse UPDATE, DELETE and TRUNCATE on
`processed_requests`), so each worker keeps the replies it committed or read (`KnownReplies`): a retry that reaches
the same worker, as a client's retry on its keep-alive connection does, is answered from memory, with no round trip.
"""

from __future__ import annotations

from collections import OrderedDict
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


class KnownReplies:
    """The stored replies one process has seen committed or read, the latest `size` of them, by key (one set per
    database: the bootstrap's unit-of-work factory shares one among its units of work)."""

    def __init__(self, size: int = 10_000) -> None:
        self.size = size
        self._replies: OrderedDict[RequestKey, ProcessedRequest] = OrderedDict()

    def get(self, key: RequestKey) -> ProcessedRequest | None:
        if (known := self._replies.get(key)) is not None:
            self._replies.move_to_end(key)
        return known

    def add(self, request: ProcessedRequest) -> None:
        self._replies[request.key] = request
        self._replies.move_to_end(request.key)
        if len(self._replies) > self.size:
            self._replies.popitem(last=False)


class SqlProcessedRequests(AbstractProcessedRequests):
    def __init__(self, connection: Connection, writes: Writes, clock: SqlClock, known: KnownReplies) -> None:
        self.connection = connection
        self.writes = writes
        self.clock = clock  # told the game's time the claim read with the key (PostgreSQL)
        self.known = known
        self._recorded: ProcessedRequest | None = None  # the reply this transaction is to commit
        # PostgreSQL: the commit's INSERT of the reply waits for a twin's and then finds the key taken, so a first
        # attempt may guess its key new. SQLite's units of work take turns from BEGIN: a claim there costs nothing.
        self.guesses = is_postgres(connection)

    def claim(self, key: RequestKey, guess: bool = False) -> ProcessedRequest | None:
        if (known := self.known.get(key)) is not None:
            return known  # committed for good: no round trip, and no lock to take
        if guess and self.guesses:
            return None  # the commit settles it; nothing was heard of the game's time (the posting reads it)
        if (found := self._claim(key)) is not None:
            self.known.add(found)
        return found

    def _claim(self, key: RequestKey) -> ProcessedRequest | None:
        if is_postgres(self.connection):  # one round trip: the reply, or the key's lock; and the game's time
            try:
                row: Any = self.connection.execute(CLAIM, {"route": key.route, "key": key.value}).one()
                self.clock.heard(GameTime(row.game_day, row.game_hour) if row.game_day is not None else None)
            except BaseException:
                # A session lock outlives the statement that took it: one cancelled or timed out after the lock was
                # granted still holds it, and the rollback must release it.
                self.writes.release(RELEASE)
                raise
            if row.fingerprint is None:
                self.writes.release(RELEASE)  # the key stays locked until the unit of work ends
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
        self.writes.add(RECORD, [row], refusal=(KEY_TAKEN, RequestAlreadyProcessed(key)), first=True)
        self._recorded = ProcessedRequest(key, fingerprint, reply)

    def transaction_ended(self, committed: bool) -> None:
        """The unit of work's transaction ended: a reply it committed is known from now on."""
        if committed and self._recorded is not None:
            self.known.add(self._recorded)
        self._recorded = None
