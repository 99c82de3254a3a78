"""The PostgreSQL adapter: what the shop does on PostgreSQL to save round trips, behind the unit of work and the
repositories (chosen once, in bootstrap). The use cases and the domain are the same on every backend.

Each statement is a round trip, and every posting locks accounts others wait for (each sale and purchase moves
`shop/gold`), so:
- BEGIN goes with a unit of work's first statement, and COMMIT with its writes that nothing reads back (the stored
  reply, a cart's changes, a checkout's or a delivery's posting, sale lines): those are queued (`PgWrites`) and sent
  with the COMMIT in one round trip, so the locks a posting takes are held within one server-side execution;
- a posting goes unchecked by the domain: the database function that writes it (`cauldrons_post_now`, migrations
  0007 and 0014) locks its accounts and checks the same rules under the locks. If they do not hold (`BooksMoved`),
  the use case is run again from the start, and this time the domain checks each posting on the balances as they
  are first, so a refusal is the domain's (`PostgresUnitOfWork.run`);
- a worker runs at most a few writing units of work at once (`WriteSlots`): the others wait their turn in
  the shop, where waiting costs nothing, rather than in PostgreSQL's queue for the locks of the hot accounts, which
  costs throughput with every waiter; reads do not take a turn;
- request keys are not claimed: each attempt guesses its key new (unless this process knows its reply). The
  reply's INSERT, sent with the COMMIT, waits for a twin's and then finds the key taken; a refusal may likewise be
  a twin's success committed meanwhile (the cart it checked out). Either way the twin's stored reply is read and
  replayed (`RequestAlreadyProcessed`).
"""

from __future__ import annotations

import collections
import contextlib
import functools
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg2.extensions
from sqlalchemy import Connection, Engine, String, bindparam, create_engine, event, func, select, text, true
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, DisconnectionError

from adapters import orm
from adapters.processed_requests import RECORD, KnownReplies, SqlProcessedRequests
from adapters.repositories import (
    SqlCartRepository,
    SqlLedgerRepository,
    SqlSalesRepository,
    in_order,
    paged,
    posted,
    transaction_row,
)
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from adapters.writes import Writes
from domain import inventory
from domain.clock import GameTime
from domain.errors import ShopError
from domain.ledger import ML_PER_CAPACITY_UNIT, POTIONS_PER_CAPACITY_UNIT, AccountRef, PostedTransaction, Transaction
from domain.sales import Cursor
from service_layer.idempotency import ProcessedRequest, Reply, RequestAlreadyProcessed, RequestKey
from service_layer.repositories import AbstractClock
from service_layer.unit_of_work import DatabaseUnavailable, ShopBusy

T = TypeVar("T")

POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT = 5, 5, 10.0  # per worker process: at most 10 connections, 10 s to wait
IDLE_PING_AFTER = 1.0  # seconds a pooled connection may sit unused before it is pinged on reuse
WRITE_DEADLINE = 5.0  # seconds a writing unit of work may wait for its turn (docs/decisions/write-slots.md)
RERUNS = 10  # how often a use case is run when the books keep moving under its postings
UNIT_OF_WORK = "cauldrons.unit_of_work"  # set on a connection while a unit of work holds it in autocommit mode
BEFORE_BEGIN = "cauldrons_before_begin"  # an execution option: BEGIN does not go with this statement


class BooksMoved(DatabaseUnavailable):
    """A posting written unchecked (or checked on a snapshot) broke the domain's rules under the write's locks: the
    use case runs again, checked by the domain first; if that keeps happening, the request is answered like an
    unavailable database (retry it)."""


class KeyTaken(Exception):
    """The commit found the request's key taken by a twin."""


# --- the engine ---------------------------------------------------------------------------------------------------


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> Engine:
    """A PostgreSQL engine: READ COMMITTED with explicit row locks (REPEATABLE READ for `read_only` reports). A
    gevent worker serves many requests at once: a bounded pool, and a short wait for a connection (a request that
    cannot get one is told to come back: 503), so many workers stay within PostgreSQL's max_connections."""
    if read_only:
        kwargs.setdefault("isolation_level", "REPEATABLE READ")
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    _begin_with_first_statement(engine, "BEGIN ISOLATION LEVEL REPEATABLE READ" if read_only else "BEGIN")
    return engine


def in_transaction(dbapi_connection: Any) -> bool:
    """Whether the server has a transaction open on this psycopg2 connection (libpq's own account of it)."""
    return bool(dbapi_connection.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE)


def _begin_with_first_statement(engine: Engine, begin: str) -> None:
    """On a connection a unit of work holds (`UNIT_OF_WORK` set), send `begin` in the same round trip as the first
    statement of each transaction ("BEGIN;SELECT ..."), where psycopg2 would send it on its own. A statement marked
    `BEFORE_BEGIN` runs on its own."""

    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _begin(connection: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> Any:
        if (
            connection.info.get(UNIT_OF_WORK)
            and not in_transaction(cursor.connection)
            and not context.execution_options.get(BEFORE_BEGIN)
        ):
            if many:  # one statement per row: BEGIN cannot ride on it
                cursor.execute(begin)
            else:
                statement = f"{begin};{statement}"
        return statement, parameters


def _ping_when_idle(engine: Engine) -> None:
    """Ping a pooled connection before reuse only if it sat idle for over `IDLE_PING_AFTER` seconds: a database
    restart or an idle timeout drops connections that have waited, and those are caught before a request gets one.
    A connection back in use within the second is not pinged (`pool_pre_ping` pings every time): one dropped in
    that second fails its request with 503 `database_unavailable`, and the pool then replaces every connection."""

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        record.info["cauldrons.idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get("cauldrons.idle_since")
        if since is not None and time.monotonic() - since > IDLE_PING_AFTER:
            try:
                engine.dialect.do_ping(dbapi_connection)
            except engine.dialect.loaded_dbapi.Error as error:
                raise DisconnectionError(str(error).strip()) from error


# --- writes sent with the commit ----------------------------------------------------------------------------------

NO_PARAMETERS = {"no_parameters": True}  # the batch is rendered already: psycopg2 must not look for %s in it
PSYCOPG2 = postgresql.psycopg2.dialect()  # compiles what psycopg2 is sent: %(name)s placeholders
ROW = re.compile(r"\((?:%\(\w+\)s, )*%\(\w+\)s\)")  # a row of values: (%(a)s, %(b)s, ...)


class PgWrites(Writes):
    """The unit of work's writes that wait for its commit, rendered by psycopg2's own quoting (`mogrify`): no
    SQLAlchemy type processing or Python-side column defaults apply, so a row gives every column its statement
    writes, as plain Python values."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)
        self._first: list[str] = []  # sent before the rest: writes that take no lock other requests wait on
        self._sql: list[str] = []
        self._refusals: dict[str, Exception] = {}  # constraint name or SQLSTATE -> what a refusal there means

    def add(
        self,
        statement: Any,
        rows: Sequence[Mapping[str, Any]],
        first: bool = False,
        refusal: tuple[str, Exception] | None = None,
    ) -> None:
        """Queue `rows` for `statement` (a statement with a row of VALUES as one statement of many rows). If the
        commit is refused as `refusal` says (by the name of the constraint broken, or by SQLSTATE), its exception is
        raised instead of the driver's. Writes queued `first` (ones only a twin of the request waits on) are sent
        before the others, so the locks a posting takes on the shop's accounts are held for less."""
        if not rows:
            return
        dbapi_connection = self._dbapi_connection()
        cursor, encoding = dbapi_connection.cursor(), psycopg2.extensions.encodings[dbapi_connection.encoding]
        head, each, tail = _pyformat(statement, tuple(rows[0]))
        rendered = [cursor.mogrify(each, row).decode(encoding) for row in rows]
        cursor.close()
        queue = self._first if first else self._sql
        if head:  # ... VALUES (...), (...) ...
            queue.append(head + ", ".join(rendered) + tail)
        else:
            queue.extend(rendered)
        if refusal is not None:
            self._refusals[refusal[0]] = refusal[1]

    def commit(self) -> None:
        """The queued writes, and COMMIT if a transaction is open, in one round trip, if there is anything to send.
        Writes that are the whole transaction go as one message without BEGIN or COMMIT: PostgreSQL runs the
        statements of one simple query as one implicit transaction, committed at its end, or rolled back whole by a
        failure, which leaves nothing open (no ROLLBACK to send after a refusal)."""
        batch = [*self._first, *self._sql, *(["COMMIT"] if in_transaction(self._dbapi_connection()) else [])]
        self._first.clear()
        self._sql.clear()
        try:
            self._send(batch)
        except DBAPIError as error:
            diagnosed = [_constraint(error), getattr(error.orig, "pgcode", None)]
            if refused := next((self._refusals[d] for d in diagnosed if d in self._refusals), None):
                raise refused from error
            raise
        finally:
            self._refusals.clear()

    def rollback(self) -> None:
        """Drop the queued writes; ROLLBACK if a transaction is open."""
        self.discard()
        self._send(["ROLLBACK"] if in_transaction(self._dbapi_connection()) else [])

    def discard(self) -> None:
        """Forget the queued writes."""
        self._first.clear()
        self._sql.clear()
        self._refusals.clear()

    def _send(self, batch: list[str]) -> None:
        if batch:  # BEGIN never goes with it: it ends a transaction, or is one
            self.connection.exec_driver_sql(";".join(batch), execution_options={**NO_PARAMETERS, BEFORE_BEGIN: True})

    def _dbapi_connection(self) -> Any:
        return self.connection.connection.dbapi_connection


def _constraint(error: DBAPIError) -> str | None:
    return getattr(getattr(error.orig, "diag", None), "constraint_name", None)


@functools.cache
def _pyformat(statement: Any, keys: tuple[str, ...]) -> tuple[str, str, str]:
    """`statement` for psycopg2 with %(name)s placeholders for `keys`, compiled once per statement and key set, as
    (head, one row, tail): a statement with a row of VALUES (an INSERT's, a WITH's) splits at it, so many rows make
    one statement; any other is ("", the statement, "")."""
    sql = str(statement.compile(dialect=PSYCOPG2, column_keys=list(keys), for_executemany=True))  # no RETURNING
    if (row := ROW.search(sql)) and sql[: row.start()].endswith("VALUES "):
        return sql[: row.start()], row.group(), sql[row.end() :]
    return "", sql, ""


# --- repositories -------------------------------------------------------------------------------------------------

# The whole write of a posting: lock, re-check, append (migration 0007).
POST = text("""SELECT * FROM cauldrons_post(
    :created_at, :kind, :description, :game_day, :game_hour, :request_route, :request_key,
    CAST(:account_ids AS bigint[]), CAST(:changes AS bigint[]), :capacity, :potions_per_unit, :ml_per_unit)""")
# The same, stamped with the game's time as the write finds it: the latest tick, read in the same call (0014).
POST_AT_WRITE = text("""SELECT * FROM cauldrons_post_now(
    :created_at, :kind, :description, :request_route, :request_key,
    CAST(:account_ids AS bigint[]), CAST(:changes AS bigint[]), :capacity, :potions_per_unit, :ml_per_unit)""")
REFUSED = "40001"  # serialization_failure: what `cauldrons_post` raises when the rules do not hold under its locks
MOVED = "the domain's rules did not hold for a posting under its locks"
LOCK = text("SELECT * FROM cauldrons_lock(CAST(:ids AS bigint[]), :whole_shop)")  # locks in id order (0006)
# What `cauldrons_lock` reads, without the locks: one index probe per account, planned once (migration 0011).
SNAPSHOT = text("SELECT * FROM cauldrons_snapshot(CAST(:ids AS bigint[]), :whole_shop)")
KEY_TAKEN = "uq_processed_requests_route_key"  # the stored replies' unique (route, key)
CART = text("SELECT * FROM cauldrons_cart(:cart_id)")  # lock the cart, then read it with its lines (migration 0010)
# A sale's lines in one call, planned once per connection, its columns as arrays (migration 0014).
SALE_LINES_CALL = text(
    "SELECT cauldrons_sale_lines(:route, :key, CAST(:cart_id AS bigint[]), CAST(:sku AS text[]), "
    "CAST(:potion_name AS text[]), CAST(:item_sku AS text[]), CAST(:quantity AS integer[]), "
    "CAST(:unit_price AS integer[]), CAST(:total AS bigint[]), CAST(:customer_id AS text[]), "
    "CAST(:customer_name AS text[]), CAST(:character_class AS text[]), CAST(:character_species AS text[]), "
    "CAST(:level AS integer[]))"
)


class PgLedgerRepository(SqlLedgerRepository):
    """A posting is written by one call that takes its locks and checks the domain's rules under them, so the
    domain looks at the balances (a snapshot, without the locks) only once the books moved under one of the unit of
    work's postings (`look_first`); a posting nothing reads back (`add`) goes with the commit."""

    writes: PgWrites

    def __init__(self, connection: Connection, writes: PgWrites, clock: AbstractClock, look_first: bool) -> None:
        super().__init__(connection, writes, clock)
        self.look_first = look_first

    def lock(self, accounts: Iterable[AccountRef] = (), whole_shop: bool = True) -> dict[AccountRef, int]:
        ids = list(self._account_ids(accounts).values())
        # One round trip: the locks in id order, then a read that sees the last writer (migration 0006).
        rows = list(self.connection.execute(LOCK, {"ids": ids, "whole_shop": whole_shop}))
        return {AccountRef(owner, commodity): int(balance) for _, owner, commodity, balance, _ in rows}

    def _add(self, txn: Transaction, request: RequestKey | None, capacity: bool) -> None:
        # The posting reads the game's time itself, as it is written (a time this transaction set included).
        arguments = self._arguments(txn, None, request, capacity)
        self.writes.add(POST_AT_WRITE, [arguments], refusal=(REFUSED, BooksMoved(MOVED)))

    def _post(self, txn: Transaction, request: RequestKey | None, capacity: bool) -> PostedTransaction:
        game_time = self.clock.now()
        arguments = self._arguments(txn, game_time, request, capacity)
        try:
            row = self.connection.execute(POST, arguments).one()
        except DBAPIError as error:
            if getattr(error.orig, "pgcode", None) == REFUSED:
                raise BooksMoved(str(error.orig).strip().splitlines()[0]) from error
            raise
        return posted(txn, int(row.id), row.created_at, game_time, request, [int(b) for b in row.balances])

    def _arguments(
        self, txn: Transaction, game_time: GameTime | None, request: RequestKey | None, capacity: bool
    ) -> dict[str, Any]:
        """The posting function's arguments; checked by the domain first on a snapshot when `look_first`."""
        whole_shop = capacity and inventory.touches_capacity(txn)
        ids = self._account_ids(e.account for e in txn.entries)
        if self.look_first:
            rows = self.connection.execute(SNAPSHOT, {"ids": list(ids.values()), "whole_shop": whole_shop})
            snapshot = {AccountRef(owner, commodity): int(balance) for _, owner, commodity, balance in rows}
            inventory.check_covers(txn, snapshot, capacity)
        return {
            **transaction_row(txn, game_time, request),
            "account_ids": [ids[e.account] for e in txn.entries],
            "changes": [e.change for e in txn.entries],
            "capacity": whole_shop,
            "potions_per_unit": POTIONS_PER_CAPACITY_UNIT,
            "ml_per_unit": ML_PER_CAPACITY_UNIT,
        }


class PgCartRepository(SqlCartRepository):
    def _read(self, cart_id: int) -> tuple[Any, list[tuple[str, int, int]]] | None:
        """The cart locked and read with its lines, in one call."""
        row = self.connection.execute(CART, {"cart_id": cart_id}).first()
        if row is None:
            return None
        return row, list(zip(row.skus, row.quantities, row.prices, strict=True))


class PgSalesRepository(SqlSalesRepository):
    def _write(self, key: dict[str, str], rows: list[dict[str, Any]]) -> None:
        self.writes.add(SALE_LINES_CALL, [{**key, **{column: [r[column] for r in rows] for column in rows[0]}}])

    def _per_name(
        self, names: list[str], skus: list[str] | None, column: str, descending: bool, cursor: Cursor | None, limit: int
    ) -> Any:
        """Each name's lines walked in a LATERAL join over the names (an array), reading only the index (the sku is
        in it) until the rows of the page are chosen."""
        s, walked = orm.sale_lines, orm.sale_lines.alias("walked")
        potion = [walked.c.sku.in_(skus)] if skus is not None else []
        names_in = func.unnest(bindparam("names", names, type_=postgresql.ARRAY(String)))
        n = names_in.table_valued("name").render_derived(name="n")  # AS n(name)
        one = select(walked.c.id, walked.c[column]).where(walked.c.customer_name == n.c.name, *potion)
        walk = paged(one, walked, column, descending, cursor, limit).lateral("walk")
        page = select(walk.c.id).select_from(n.join(walk, true()))
        chosen = page.order_by(*in_order(walk, column, descending)).limit(limit)
        return select(s).where(s.c.id.in_(chosen)).order_by(*in_order(s, column, descending))


class PgProcessedRequests(SqlProcessedRequests):
    """Keys guessed new: a key whose reply this process does not know is taken to be new, with no round trip; the
    commit settles it (the reply's INSERT waits for a twin's, then finds the key taken)."""

    writes: PgWrites

    def __init__(self, connection: Connection, writes: PgWrites, known: KnownReplies) -> None:
        super().__init__(connection, writes, known)
        self.guessed: RequestKey | None = None  # the key this unit of work took to be new

    def get(self, key: RequestKey) -> ProcessedRequest | None:
        if (known := self.known.get(key)) is not None:
            return known
        self.guessed = key
        return None

    def stored(self, key: RequestKey, **options: Any) -> ProcessedRequest | None:
        return super().stored(key, **{BEFORE_BEGIN: True, **options})  # read on its own, opening no transaction

    def add(self, key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> None:
        row = self._row(key, fingerprint, reply, moved)
        self.writes.add(RECORD, [row], first=True, refusal=(KEY_TAKEN, KeyTaken(key)))
        self._recorded = ProcessedRequest(key, fingerprint, reply)


# --- the unit of work ---------------------------------------------------------------------------------------------


class WriteSlots:
    """A worker's turns at writing: at most `size` writing units of work at once; the others wait in the order they
    came, each handed its turn by the one that ends, for up to `deadline` seconds, and are then refused
    (`ShopBusy`). Made in the process that uses it: in a gevent worker, threading is gevent's, so a wait yields to
    the worker's other requests. (threading.Semaphore is not first come, first served: a newcomer can take a turn
    that a waiter was woken for, and the waiter queues again at the back.)"""

    def __init__(self, size: int, deadline: float = WRITE_DEADLINE) -> None:
        self.size, self.deadline = size, deadline
        self._lock = threading.Lock()
        self._free = size
        self._waiting: collections.deque[threading.Event] = collections.deque()

    @property
    def waiting(self) -> int:
        """How many wait for a turn now."""
        return len(self._waiting)

    def __enter__(self) -> None:
        with self._lock:
            if self._free:
                self._free -= 1
                return
            turn = threading.Event()
            self._waiting.append(turn)
        try:
            if turn.wait(self.deadline):
                return
        except BaseException:  # interrupted while waiting (a greenlet killed): no turn may be lost with it
            with self._lock:
                if not turn.is_set():
                    self._waiting.remove(turn)
                    raise
            self.__exit__()  # handed over meanwhile: pass it on
            raise
        with self._lock:
            if turn.is_set():  # handed over as the deadline passed
                return
            self._waiting.remove(turn)
        raise ShopBusy(f"no write slot of this worker came free within {self.deadline:g} s")

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            if self._waiting:
                self._waiting.popleft().set()  # the turn goes to the first waiter, never back to the pool
            else:
                self._free += 1


class PostgresUnitOfWork(SqlAlchemyUnitOfWork):
    """The driver is in autocommit mode while the unit of work holds the connection, and the unit of work says where
    its transaction begins and ends, each in a round trip it shares (see the module's docstring). Whether a
    transaction is open is libpq's account (`in_transaction`), not ours: the connection goes back to the pool with
    none open and out of autocommit, or is invalidated."""

    ledger: PgLedgerRepository
    processed_requests: PgProcessedRequests
    writes: PgWrites
    look_first = False  # set while a use case runs again after the books moved under one of its postings

    def __init__(
        self, engine: Engine, known_replies: KnownReplies | None = None, write_slots: WriteSlots | None = None
    ) -> None:
        """`write_slots`: the turns this process's writing units of work take (none: each writes at once)."""
        super().__init__(engine, known_replies)
        self.write_slots = write_slots

    def _repositories(self) -> None:
        self.dbapi_connection = self.connection.connection.dbapi_connection
        self.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        self.connection.info[UNIT_OF_WORK] = True
        super()._repositories()

    def _writing_repositories(self) -> None:
        self.writes = PgWrites(self.connection)
        self.carts = PgCartRepository(self.connection, self.writes)
        self.ledger = PgLedgerRepository(self.connection, self.writes, self.clock, self.look_first)
        self.sales = PgSalesRepository(self.connection, self.writes)
        self.processed_requests = PgProcessedRequests(self.connection, self.writes, self.known_replies)

    def run(self, work: Callable[[], T]) -> T:
        """`work` in its turn (`write_slots`), run again (the domain looking first) while the books moved under its
        postings; a refusal, or a key found taken at the commit, is answered by a twin's stored reply if there is
        one."""
        with self.write_slots or contextlib.nullcontext():
            for attempt in range(1, RERUNS + 1):
                self.look_first = attempt > 1
                try:
                    with self:
                        return work()
                except BooksMoved:
                    if attempt == RERUNS:
                        raise
                except (ShopError, KeyTaken) as error:
                    if (guessed := self.processed_requests.guessed) is None:
                        raise
                    with self:
                        earlier = self.processed_requests.stored(guessed)
                    if earlier is None:
                        raise  # no twin: the refusal stands
                    raise RequestAlreadyProcessed(earlier) from error
        raise AssertionError("unreachable")

    def rollback(self) -> None:
        if self.connection.invalidated:
            self.writes.discard()
        else:
            try:
                self.writes.rollback()
            except DBAPIError:
                self.connection.invalidate()  # whatever broke, this connection is not handed out again (its locks go)
        self.connection.rollback()
        self._transaction_ended(committed=False)

    def _give_back(self) -> None:
        """Out of autocommit (leaving the unit of work rolled back whatever was open, or invalidated the
        connection)."""
        if not self.connection.invalidated:
            self.connection.info.pop(UNIT_OF_WORK, None)
            self.dbapi_connection.autocommit = False  # type: ignore[union-attr]
