"""Wiring: engine -> schema (migrated when behind) -> unit-of-work factory -> opened shop, and the secret that signs
page tokens."""

from __future__ import annotations

import functools
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from adapters import migrations
from adapters.db import make_engine
from adapters.postgres import PostgresUnitOfWork, WriteSlots
from adapters.processed_requests import KnownReplies
from adapters.secrets import PAGE_TOKENS, SqlSecrets
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from cauldrons.config import Config
from service_layer import services
from service_layer.unit_of_work import AbstractUnitOfWork

UowFactory = Callable[[], AbstractUnitOfWork]


@dataclass(frozen=True)
class Wiring:
    engine: Engine
    uow_factory: SqlUowFactory


class SqlUowFactory:
    """Units of work over one engine (a new one each call), and the secrets kept in its database. What its units of
    work share is made here, in the process that uses them: the replies they know, and on PostgreSQL the turns its
    writing units of work take (`write_slots` at once)."""

    def __init__(self, engine: Engine, write_slots: int = Config.write_slots) -> None:
        self.engine = engine
        self.known_replies = KnownReplies()  # one set per process and database: every unit of work adds what it commits
        self.write_slots = WriteSlots(write_slots) if is_postgres(engine) else None
        self.secrets = SqlSecrets(engine)

    def __call__(self) -> AbstractUnitOfWork:
        return unit_of_work(self.engine, self.known_replies, self.write_slots)


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def unit_of_work(
    engine: Engine, known_replies: KnownReplies | None = None, write_slots: WriteSlots | None = None
) -> SqlAlchemyUnitOfWork:
    """A unit of work of `engine`'s backend; on PostgreSQL, its writes wait for a turn of `write_slots` (if given)."""
    if is_postgres(engine):
        return PostgresUnitOfWork(engine, known_replies, write_slots)
    return SqlAlchemyUnitOfWork(engine, known_replies)


def bootstrap(config: Config, prepare: bool = True) -> Wiring:
    """Everything the app needs to serve `config`'s database, ready to use: the unit of work of its backend. Without
    `prepare`, the database is taken to be migrated and the shop opened already (gunicorn's master does both before
    it forks its workers)."""
    engine = make_engine(config.database_url)
    if prepare:
        migrations.upgrade(engine)
    uow_factory = SqlUowFactory(engine, config.write_slots)
    if prepare:
        services.open_shop(uow_factory())
        uow_factory.secrets.ensure(PAGE_TOKENS)
    return Wiring(engine, uow_factory)


def page_token_secret(config: Config, uow_factory: UowFactory) -> Callable[[], str]:
    """What signs page tokens, read each time they are signed or checked: `SECRET_KEY` if set, else the secret kept
    in the database (made if missing), so a rotation retires the tokens signed before in every process at once.
    Units of work of a caller's own (tests' fakes) have no database to keep one: they get a random secret of this
    process. Never anything derived from the API key."""
    if config.secret_key:
        key = config.secret_key
        return lambda: key
    if isinstance(uow_factory, SqlUowFactory):
        return functools.partial(uow_factory.secrets.ensure, PAGE_TOKENS)  # read anew each call; made if missing
    own = secrets.token_urlsafe(32)
    return lambda: own
