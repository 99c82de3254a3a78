"""Engines for the two backends, set up for correctness under concurrency.

SQLite: WAL, foreign keys, a generous busy timeout, and `BEGIN IMMEDIATE` for every transaction, so a unit of work
holds the write lock from its first statement and a balance check can never be raced. PostgreSQL: READ COMMITTED,
with explicit row locks taken by its repositories (`adapters.postgres`).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

from adapters import postgres


def make_engine(url: str, read_only: bool = False, **kwargs: Any) -> Engine:
    """An engine for `url`. `read_only` engines (reports) do not take SQLite's write lock, and on PostgreSQL read
    one snapshot (REPEATABLE READ) for a whole transaction."""
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
    return postgres.make_engine(url, read_only, **kwargs)
