"""Wiring: engine -> schema (migrated when behind) -> unit-of-work factory -> opened shop."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine

from adapters import migrations
from adapters.db import make_engine
from adapters.postgres import PostgresUnitOfWork
from adapters.processed_requests import KnownReplies
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from cauldrons.config import Config
from service_layer import services
from service_layer.unit_of_work import AbstractUnitOfWork

UowFactory = Callable[[], AbstractUnitOfWork]


@dataclass(frozen=True)
class Wiring:
    engine: Engine
    uow_factory: UowFactory


def unit_of_work(engine: Engine, known_replies: KnownReplies | None = None) -> SqlAlchemyUnitOfWork:
    """A unit of work of `engine`'s backend."""
    kind = PostgresUnitOfWork if engine.dialect.name == "postgresql" else SqlAlchemyUnitOfWork
    return kind(engine, known_replies)


def bootstrap(config: Config, prepare: bool = True) -> Wiring:
    """Everything the app needs to serve `config`'s database, ready to use: the unit of work of its backend. Without
    `prepare`, the database is taken to be migrated and the shop opened already (gunicorn's master does both before
    it forks its workers)."""
    engine = make_engine(config.database_url)
    if prepare:
        migrations.upgrade(engine)

    # One set per process and database: every unit of work adds what it commits.
    known_replies = KnownReplies()

    def uow_factory() -> AbstractUnitOfWork:
        return unit_of_work(engine, known_replies)

    if prepare:
        services.open_shop(uow_factory())
    return Wiring(engine, uow_factory)
