"""The writes nothing in a unit of work reads back (a posting, sale lines, cart changes, the stored reply): here run
as they come. A backend with round trips to save sends them with the commit instead (`adapters.postgres.PgWrites`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection


class Writes:
    """Run each write at once, in the unit of work's transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(self, statement: Any, rows: Sequence[Mapping[str, Any]], first: bool = False) -> None:
        """Write `rows` with `statement` in this transaction. `first`: where writes wait for the commit, this one
        goes before the others (a write only a twin of the request waits on: the reply's key, a cart this
        transaction holds)."""
        if rows:
            self.connection.execute(statement, list(rows))

    def commit(self) -> None:
        """Nothing waits: every write has been run."""

    def rollback(self) -> None:
        """Nothing waits: every write has been run."""
