"""`processed_requests`: the stored reply of every POST that carried a key.

Racing twins: the unique (route, key) constraint decides. On PostgreSQL no attempt claims its key in the database:
each guesses it new (`guesses`), and its reply's INSERT, sent with the COMMIT, waits for a twin's and then finds the
key taken (RequestAlreadyProcessed); the service then reads the twin's stored reply and replays it. It does the
same after a refusal, which may come from a twin's success committed meanwhile (the cart it checked out). No
advisory lock is taken: the claim of migrations 0006, 0012 and 0013 made twins wait for each other, at a round trip
for every request. On SQLite every unit of work holds the database's write lock from BEGIN IMMEDIATE, so a claim
there reads the stored reply under it, and twins take turns.

The reply is written with the unit of work's commit (`adapters.writes`): nothing reads it back before then.

A reply never changes or goes once committed (migration 0002's triggers refuse UPDATE, DELETE and TRUNCATE on
`processed_requests`), so each worker keeps the replies it committed or read (`KnownReplies`): a retry that reaches
the same worker, as a client's retry on its keep-alive connection does, is answered from memory, with no round trip.
"""

from __future__ import annotations

from collections import OrderedDict

from sqlalchemy import Connection, bindparam, select

from adapters import orm
from adapters.db import BEFORE_BEGIN, is_postgres
from adapters.writes import Writes
from domain.clock import utcnow
from service_layer.idempotency import (
    AbstractProcessedRequests,
    ProcessedRequest,
    Reply,
    RequestAlreadyProcessed,
    RequestKey,
)

_t = orm.processed_requests
# A key's stored reply, read on its own (on PostgreSQL before the unit of work's transaction begins, opening none).
STORED = select(_t.c.fingerprint, _t.c.status, _t.c.body, _t.c.content_type).where(
    _t.c.route == bindparam("route"), _t.c.key == bindparam("key")
)
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
    def __init__(self, connection: Connection, writes: Writes, known: KnownReplies) -> None:
        self.connection = connection
        self.writes = writes
        self.known = known
        self._recorded: ProcessedRequest | None = None  # the reply this transaction is to commit
        # PostgreSQL: the commit's INSERT of the reply waits for a twin's and then finds the key taken, so an attempt
        # may guess its key new. SQLite's units of work take turns from BEGIN: a claim there costs nothing.
        self.guesses = is_postgres(connection)

    def claim(self, key: RequestKey, guess: bool = False) -> ProcessedRequest | None:
        if (known := self.known.get(key)) is not None:
            return known  # committed for good: no round trip
        if guess and self.guesses:
            return None  # the commit settles it
        options = {BEFORE_BEGIN: True} if self.guesses else {}
        row = self.connection.execute(STORED, {"route": key.route, "key": key.value}, execution_options=options).first()
        if row is None:
            return None
        found = ProcessedRequest(key, row.fingerprint, Reply(row.status, bytes(row.body), row.content_type))
        self.known.add(found)
        return found

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
