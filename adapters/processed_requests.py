"""`processed_requests`: the stored reply of every POST that carried a key.

Racing twins: on SQLite every unit of work holds the database's write lock from its first statement (BEGIN
IMMEDIATE), so `get` reads the stored reply under it and twins take turns: the later one replays the earlier's
reply. (PostgreSQL settles twins at the commit instead: `adapters.postgres.PgProcessedRequests`.)

A reply never changes or goes once committed (migration 0002's triggers refuse UPDATE, DELETE and TRUNCATE on
`processed_requests`), so each process keeps the replies it committed or read (`KnownReplies`): a retry that reaches
the same process, as a client's retry on its keep-alive connection does, is answered from memory.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from sqlalchemy import Connection, bindparam, select

from adapters import orm
from adapters.writes import Writes
from domain.clock import utcnow
from service_layer.idempotency import AbstractProcessedRequests, ProcessedRequest, Reply, RequestKey

_t = orm.processed_requests
STORED = select(_t.c.fingerprint, _t.c.status, _t.c.body, _t.c.content_type).where(
    _t.c.route == bindparam("route"), _t.c.key == bindparam("key")
)
RECORD = orm.processed_requests.insert()


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

    def get(self, key: RequestKey) -> ProcessedRequest | None:
        if (known := self.known.get(key)) is not None:
            return known  # committed for good: no round trip
        return self.stored(key)

    def stored(self, key: RequestKey, **options: Any) -> ProcessedRequest | None:
        """The key's stored reply, read from the database (with these execution options)."""
        row = self.connection.execute(STORED, {"route": key.route, "key": key.value}, execution_options=options).first()
        if row is None:
            return None
        found = ProcessedRequest(key, row.fingerprint, Reply(row.status, bytes(row.body), row.content_type))
        self.known.add(found)
        return found

    def add(self, key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> None:
        self.writes.add(RECORD, [self._row(key, fingerprint, reply, moved)], first=True)
        self._recorded = ProcessedRequest(key, fingerprint, reply)

    @staticmethod
    def _row(key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> dict[str, Any]:
        return {
            "route": key.route,
            "key": key.value,
            "fingerprint": fingerprint,
            "status": reply.status,
            "content_type": reply.content_type,
            "body": reply.body,
            "moved": moved,
            "created_at": utcnow(),
        }

    def transaction_ended(self, committed: bool) -> None:
        """The unit of work's transaction ended: a reply it committed is known from now on."""
        if committed and self._recorded is not None:
            self.known.add(self._recorded)
        self._recorded = None
