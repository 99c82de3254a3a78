"""Engines for the two backends, set up for correctness under concurrency.

SQLite: WAL, foreign keys, a generous busy timeout, and `BEGIN IMMEDIATE` for every transaction, so a unit of work
holds the write lock from its first statement and a balance check can never be raced. PostgreSQL: READ COMMITTED,
with explicit row and advisory locks taken by the repositories.
"""

from __future__ import annotations

import time
from typing import Any

import psycopg2.extensions
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError

POOL_SIZE, POOL_OVERFLOW, POOL_TIMEOUT = 5, 5, 10.0  # per worker process: at most 10 connections, 10 s to wait
IDLE_PING_AFTER = 1.0  # seconds a pooled PostgreSQL connection may sit unused before it is pinged on reuse


def is_postgres(connection: Connection) -> bool:
    return connection.dialect.name == "postgresql"


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`. `read_only` engines (reports) do not take SQLite's write lock, and on PostgreSQL read
    one snapshot (REPEATABLE READ) for a whole transaction."""
    if read_only and not url.startswith("sqlite"):
        kwargs.setdefault("isolation_level", "REPEATABLE READ")
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

        @event.listens_for(engine, "connect")
        def _on_connect(dbapi_connection: Any, _record: Any) -> None:
            dbapi_connection.isolation_level = None  # let us, not the driver, say when transactions begin
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()

        @event.listens_for(engine, "begin")
        def _on_begin(connection: Any) -> None:
            connection.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

        return engine
    # A gevent worker serves many requests at once: a bounded pool, and a short wait for a connection (a request
    # that cannot get one is told to come back: 503), so many workers stay within PostgreSQL's max_connections.
    kwargs.setdefault("pool_size", POOL_SIZE)
    kwargs.setdefault("max_overflow", POOL_OVERFLOW)
    kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
    engine = create_engine(url, **kwargs)
    _ping_when_idle(engine)
    _begin_with_first_statement(engine, "BEGIN ISOLATION LEVEL REPEATABLE READ" if read_only else "BEGIN")
    return engine


# Set on a connection while a unit of work holds it with the driver in autocommit mode: the unit of work says where
# its transactions begin and end (`adapters.unit_of_work.SqlAlchemyUnitOfWork`).
UNIT_OF_WORK = "cauldrons.unit_of_work"
# An execution option: BEGIN does not go with the statement (a key's stored reply, read outside any transaction; the
# writes that end a transaction, or are one: `adapters.writes`).
BEFORE_BEGIN = "cauldrons_before_begin"


def in_transaction(dbapi_connection: Any) -> bool:
    """Whether the server has a transaction open on this psycopg2 connection (libpq's own account of it)."""
    return bool(dbapi_connection.info.transaction_status != psycopg2.extensions.TRANSACTION_STATUS_IDLE)


def _begin_with_first_statement(engine: Engine, begin: str) -> None:
    """On a connection a unit of work holds (`UNIT_OF_WORK` set), send `begin` in the same round trip as the first
    statement of each transaction ("BEGIN;SELECT ..."), where psycopg2 would send it on its own: the unit of work
    sends its COMMIT with its last writes likewise. A statement marked `BEFORE_BEGIN` runs on its own."""

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
    restart or an idle timeout drops connections that have waited, and those are caught before a request gets one
    (the pool opens a new one). A connection back in use within the second is not pinged: under load that saves a
    round trip per request (`pool_pre_ping` pings every time). One dropped in that second fails its request with 503
    `database_unavailable`, and the pool then replaces every connection it holds."""

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
