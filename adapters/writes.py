"""Writes that nothing in a unit of work reads back (sale lines, cart changes, the stored reply), sent with its commit.

On PostgreSQL each statement is a round trip, and the last ones of a checkout run while the posting holds the shop's
accounts locked: queued here, they go with the COMMIT, in one round trip, so those locks are held for one round trip
after the posting instead of four. On SQLite (in-process, no round trips) they run at once.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

NO_PARAMETERS = {"no_parameters": True}  # the batch is rendered already: psycopg2 must not look for %s in it


class Writes:
    """The unit of work's writes that wait for its commit (on PostgreSQL; on SQLite they are run as they come)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.deferred = connection.dialect.name == "postgresql"
        self._sql: list[str] = []
        self._conflicts: dict[str, Exception] = {}  # unique constraint -> what a duplicate there means

    def add(
        self, statement: Any, rows: Sequence[Mapping[str, Any]], conflict: tuple[str, Exception] | None = None
    ) -> None:
        """Write `rows` with `statement` in this transaction, now or with the commit. A row that breaks the unique
        constraint named in `conflict` raises its exception instead of the driver's, whenever it is written."""
        if not rows:
            return
        if not self.deferred:
            try:
                self.connection.execute(statement, list(rows))
            except IntegrityError as error:
                if conflict is not None and str(error.orig).startswith("UNIQUE constraint failed"):
                    raise conflict[1] from error  # SQLite names the columns, not the constraint: one table here
                raise
            return
        cursor = self.connection.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        sql = _pyformat(self.connection.dialect, statement, tuple(rows[0]))
        self._sql.extend(cursor.mogrify(sql, row).decode() for row in rows)
        if conflict is not None:
            self._conflicts[conflict[0]] = conflict[1]

    @property
    def pending(self) -> bool:
        return bool(self._sql)

    def commit(self) -> None:
        """PostgreSQL: the queued writes, then COMMIT, in one round trip."""
        try:
            self.connection.exec_driver_sql(";".join([*self._sql, "COMMIT"]), execution_options=NO_PARAMETERS)
        except IntegrityError as error:
            if (name := _constraint(error)) in self._conflicts:
                raise self._conflicts[name] from error
            raise
        finally:
            self.discard()

    def discard(self) -> None:
        self._sql.clear()
        self._conflicts.clear()


def _constraint(error: IntegrityError) -> str | None:
    return getattr(getattr(error.orig, "diag", None), "constraint_name", None)


@functools.cache
def _pyformat(dialect: Any, statement: Any, keys: tuple[str, ...]) -> str:
    """`statement` for psycopg2, with %(name)s placeholders for `keys`: compiled once per statement and key set."""
    return str(statement.compile(dialect=dialect, column_keys=list(keys), for_executemany=True))  # no RETURNING
