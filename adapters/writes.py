"""Writes that nothing in a unit of work reads back (a checkout's or a delivery's posting, sale lines, cart changes,
the stored reply), sent with its commit.

On PostgreSQL each statement is a round trip, and every posting locks accounts others wait for (each sale and
purchase moves `shop/gold`): queued here, the posting and the writes after it go with the COMMIT, in one round trip,
so those locks are held within one server-side execution, never across a round trip. On SQLite (in-process, no
round trips) they run at once.

The queued rows are rendered by psycopg2's own quoting (`mogrify`), not by SQLAlchemy: no type processing and no
Python-side column defaults apply, so a row gives every column its statement writes, as plain Python values.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg2.extensions
from sqlalchemy import Connection
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import DBAPIError, IntegrityError

from adapters.db import BEFORE_BEGIN, in_transaction, is_postgres

NO_PARAMETERS = {"no_parameters": True}  # the batch is rendered already: psycopg2 must not look for %s in it
PSYCOPG2 = postgresql.psycopg2.dialect()  # compiles what psycopg2 is sent: %(name)s placeholders


class Writes:
    """The unit of work's writes that wait for its commit (on PostgreSQL; on SQLite they are run as they come)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self.deferred = is_postgres(connection)
        self._first: list[str] = []  # sent before the rest: writes that take no lock other requests wait on
        self._sql: list[str] = []
        self._refusals: dict[str, Exception] = {}  # constraint name or SQLSTATE -> what a refusal there means

    def add(
        self,
        statement: Any,
        rows: Sequence[Mapping[str, Any]],
        refusal: tuple[str, Exception] | None = None,
        first: bool = False,
    ) -> None:
        """Write `rows` with `statement` in this transaction, now or with the commit (a statement with a row of
        VALUES as one statement of many rows). If the database refuses them as `refusal` says (by the name of the
        constraint broken, or by SQLSTATE; on SQLite, which names no constraints, by any unique constraint), its
        exception is raised instead of the driver's, whenever they are written. Writes queued `first` (ones only a
        twin of the request waits on: the reply's key, a cart this transaction holds) are sent before the others,
        so the locks a posting takes on the shop's accounts are held for less."""
        if not rows:
            return
        if not self.deferred:
            try:
                self.connection.execute(statement, list(rows))
            except IntegrityError as error:
                if refusal is not None and str(error.orig).startswith("UNIQUE constraint failed"):
                    raise refusal[1] from error
                raise
            return
        dbapi_connection = self._dbapi_connection()
        cursor, encoding = dbapi_connection.cursor(), psycopg2.extensions.encodings[dbapi_connection.encoding]
        head, each, tail = _pyformat(statement, tuple(rows[0]))
        rendered = [cursor.mogrify(each, row).decode(encoding) for row in rows]
        queue = self._first if first else self._sql
        if head:  # ... VALUES (...), (...) ...
            queue.append(head + ", ".join(rendered) + tail)
        else:
            queue.extend(rendered)
        cursor.close()
        if refusal is not None:
            self._refusals[refusal[0]] = refusal[1]

    def commit(self) -> None:
        """PostgreSQL: the queued writes, and COMMIT if a transaction is open, in one round trip, if there is
        anything to send. Writes that are the whole transaction go as one message without BEGIN or COMMIT:
        PostgreSQL runs the statements of one simple query as one implicit transaction, committed at its end, or
        rolled back whole by a failure, which leaves nothing open (no ROLLBACK to send after a refusal)."""
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
        """PostgreSQL: drop the queued writes; ROLLBACK if a transaction is open."""
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


ROW = re.compile(r"\((?:%\(\w+\)s, )*%\(\w+\)s\)")  # a row of values: (%(a)s, %(b)s, ...)
