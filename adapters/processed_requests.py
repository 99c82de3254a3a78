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
The worker processes of one server also share the replies they commit (`SharedReplies`, mapped before the fork): a
retry on a new connection, which may reach any worker, is answered from memory too.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import struct
import tempfile
import threading
import zlib
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


class SharedReplies:
    """Stored replies shared by the processes forked after it was made (gunicorn's workers of one server): a table of
    `slots` slots of `slot_size` bytes in a shared mapping of a file in memory. A reply goes to the slot its key
    hashes to, replacing whatever was there; one too big for a slot is not shared. It is a cache of rows that never
    change, so a miss only costs the round trips a worker that never saw the reply would spend anyway.

    A slot is `seq, crc, length, payload`. Writers of a slot take turns, never waiting for each other (a writer that
    finds the slot taken does not share that reply): across processes by a record lock on the slot's bytes, which the
    kernel releases if its process is killed, and within a process by a lock of the table's. A writer makes `seq` odd
    while it writes and even when done; one that finds `seq` odd under the lock knows its last writer died halfway, and
    goes on from the next odd number. A reader takes the slot only if `seq` was even and the same before and after its
    copy (on x86 that alone excludes a torn copy; elsewhere the CRC-32 does) and the payload's CRC-32 holds, and only
    for the exact route and key it asked for. Whatever fails is a miss."""

    SEQ = struct.Struct("<Q")  # the slot's sequence number: odd while it is written
    SIZES = struct.Struct("<II")  # after it: the CRC-32 of the payload, the payload's length
    HEADER_SIZE = SEQ.size + SIZES.size
    FIELDS = struct.Struct("<HHHHHI")  # lengths of route, key, fingerprint, content type; status; body length

    def __init__(self, slots: int = 4096, slot_size: int = 2048) -> None:
        self.slots, self.slot_size = slots, slot_size
        # A file in memory (an unlinked temporary file where there is no memfd), mapped shared: forked children
        # inherit the mapping, and its byte ranges can be locked.
        memfd = getattr(os, "memfd_create", None)  # Linux
        self._file = os.fdopen(memfd("cauldrons-replies"), "r+b") if memfd else tempfile.TemporaryFile()
        self._file.truncate(slots * slot_size)
        self._memory = mmap.mmap(self._file.fileno(), slots * slot_size)
        self._writing = threading.Lock()  # the record lock is the process's: threads of one take turns by this

    def get(self, key: RequestKey) -> ProcessedRequest | None:
        start = self._slot(key)
        (seq,) = self.SEQ.unpack_from(self._memory, start)
        crc, length = self.SIZES.unpack_from(self._memory, start + self.SEQ.size)
        if seq % 2 or not 0 < length <= self.slot_size - self.HEADER_SIZE:
            return None  # being written, or empty
        payload = self._memory[start + self.HEADER_SIZE : start + self.HEADER_SIZE + length]
        if self.SEQ.unpack_from(self._memory, start)[0] != seq or zlib.crc32(payload) != crc:
            return None  # overwritten while we read
        try:
            route, value, fingerprint, content_type, status, body = self._decode(payload)
        except (struct.error, UnicodeDecodeError):
            return None  # torn in a way the CRC-32 missed (about one in 2**32 torn copies)
        if (route, value) != (str(key.route), key.value):
            return None  # another key's reply, in the same slot
        return ProcessedRequest(key, fingerprint, Reply(status, body, content_type or None))

    def add(self, request: ProcessedRequest) -> None:
        payload = self._encode(request)
        if len(payload) > self.slot_size - self.HEADER_SIZE:
            return
        start = self._slot(request.key)
        if not self._writing.acquire(blocking=False):
            return  # another thread of this process is writing: not shared, never waited for
        try:
            try:  # the slot's lock: a POSIX record lock, which the kernel releases if its process dies
                fcntl.lockf(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB, self.slot_size, start)
            except OSError:
                return  # another process is writing this slot: not shared, never waited for
            try:
                self._write(start, payload)
            finally:
                fcntl.lockf(self._file, fcntl.LOCK_UN, self.slot_size, start)
        finally:
            self._writing.release()

    def _write(self, start: int, payload: bytes) -> None:
        """Write the slot at `start`, holding its locks."""
        (seq,) = self.SEQ.unpack_from(self._memory, start)
        writing = seq + 1 + seq % 2  # odd; an odd seq found under the lock is a writer that died halfway
        self.SEQ.pack_into(self._memory, start, writing)
        self._memory[start + self.HEADER_SIZE : start + self.HEADER_SIZE + len(payload)] = payload
        self.SIZES.pack_into(self._memory, start + self.SEQ.size, zlib.crc32(payload), len(payload))
        self.SEQ.pack_into(self._memory, start, writing + 1)  # even: whole

    def _slot(self, key: RequestKey) -> int:
        digest = hashlib.blake2b(f"{key.route}\n{key.value}".encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") % self.slots * self.slot_size

    @classmethod
    def _encode(cls, request: ProcessedRequest) -> bytes:
        texts = [str(request.key.route), request.key.value, request.fingerprint, request.reply.content_type or ""]
        route, value, fingerprint, content_type = (t.encode() for t in texts)
        reply = request.reply
        lengths = (len(route), len(value), len(fingerprint), len(content_type), reply.status, len(reply.body))
        return cls.FIELDS.pack(*lengths) + route + value + fingerprint + content_type + reply.body

    @classmethod
    def _decode(cls, payload: bytes) -> tuple[str, str, str, str, int, bytes]:
        n_route, n_key, n_fingerprint, n_type, status, n_body = cls.FIELDS.unpack_from(payload)
        at, texts = cls.FIELDS.size, []
        for n in (n_route, n_key, n_fingerprint, n_type):
            texts.append(payload[at : at + n].decode())
            at += n
        return texts[0], texts[1], texts[2], texts[3], status, payload[at : at + n_body]


class KnownReplies:
    """The stored replies one process has seen committed or read, the latest `size` of them, by key (one set per
    database: the bootstrap's unit-of-work factory shares one among its units of work), and, with `shared`, the
    replies its sibling processes committed."""

    def __init__(self, size: int = 10_000, shared: SharedReplies | None = None) -> None:
        self.size = size
        self.shared = shared
        self._replies: OrderedDict[RequestKey, ProcessedRequest] = OrderedDict()

    def get(self, key: RequestKey) -> ProcessedRequest | None:
        if (known := self._replies.get(key)) is not None:
            self._replies.move_to_end(key)
        elif self.shared is not None and (known := self.shared.get(key)) is not None:
            self._remember(known)
        return known

    def add(self, request: ProcessedRequest) -> None:
        self._remember(request)
        if self.shared is not None:
            self.shared.add(request)

    def _remember(self, request: ProcessedRequest) -> None:
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
