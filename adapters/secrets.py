"""The shop's own secrets, kept in its database (table `secrets`, migration 0017): per purpose, every generation it
ever had; the newest is the secret. Today one purpose: the key that signs the order search's page tokens.

A secret is random (`secrets.token_urlsafe`), made by the shop, and owes nothing to the API key. The first is made
when the shop starts (`ensure`): processes starting at once each try to insert generation 1, the unique (purpose,
generation) lets one in, and all read back the same row. `rotate` appends the next generation, so what the one
before signed is refused from then on, by every process (they read the secret each time they sign or check).
"""

from __future__ import annotations

import secrets as random
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine, insert, select
from sqlalchemy.exc import IntegrityError

from adapters import orm
from adapters.unit_of_work import connect, unavailable
from domain.clock import utcnow
from service_layer.unit_of_work import DatabaseUnavailable

PAGE_TOKENS = "page_tokens"  # the purpose of the key that signs the order search's page tokens
ROTATE_ATTEMPTS = 10  # rotations racing each other: each tries again until its generation is the next one
SECRET_BYTES = 32


class SqlSecrets:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    @contextmanager
    def _transaction(self) -> Iterator[Connection]:
        """A transaction of its own; a database that is not there is DatabaseUnavailable (a 503), as in a unit of
        work."""
        connection = connect(self.engine)
        try:
            with connection.begin():
                yield connection
        except Exception as error:
            if (reason := unavailable(error)) is not None:
                raise DatabaseUnavailable(reason) from error
            raise
        finally:
            connection.close()

    @staticmethod
    def _newest(connection: Connection, purpose: str) -> tuple[int, str] | None:
        t = orm.secrets
        row = connection.execute(
            select(t.c.generation, t.c.value).where(t.c.purpose == purpose).order_by(t.c.generation.desc()).limit(1)
        ).first()
        return None if row is None else (row.generation, row.value)

    def current(self, purpose: str) -> str | None:
        """The secret of `purpose` (its newest generation), None if it has none yet."""
        with self._transaction() as connection:
            newest = self._newest(connection, purpose)
        return None if newest is None else newest[1]

    def generation(self, purpose: str) -> int:
        """How many secrets `purpose` has had (0: none yet)."""
        with self._transaction() as connection:
            newest = self._newest(connection, purpose)
        return 0 if newest is None else newest[0]

    def ensure(self, purpose: str) -> str:
        """The secret of `purpose`, made (generation 1) if it has none: racing callers all get the same one."""
        if (secret := self.current(purpose)) is not None:
            return secret
        try:
            with self._transaction() as connection:
                connection.execute(insert(orm.secrets).values(self._row(purpose, 1)))
        except IntegrityError:  # another process made it first: theirs is the one
            pass
        secret = self.current(purpose)
        assert secret is not None
        return secret

    def rotate(self, purpose: str) -> int:
        """Append a new random secret for `purpose`; returns its generation. What the earlier ones signed is refused
        from then on."""
        for _ in range(ROTATE_ATTEMPTS):
            try:
                with self._transaction() as connection:
                    generation = (self._newest(connection, purpose) or (0, ""))[0] + 1
                    connection.execute(insert(orm.secrets).values(self._row(purpose, generation)))
                return generation
            except IntegrityError:  # a rotation racing this one took that generation: take the next
                continue
        raise RuntimeError(f"could not rotate the {purpose} secret: {ROTATE_ATTEMPTS} rotations raced it")

    @staticmethod
    def _row(purpose: str, generation: int) -> dict[str, object]:
        return {
            "purpose": purpose,
            "generation": generation,
            "value": random.token_urlsafe(SECRET_BYTES),
            "created_at": utcnow(),
        }
