"""Alembic migrations: the only thing that creates or changes the schema, on both backends.

`upgrade(engine)` brings a database to the newest revision when it is behind; it is run at start-up. On
PostgreSQL an advisory lock makes several starting workers migrate one after another (the later ones find nothing
to do); on SQLite, BEGIN IMMEDIATE does the same.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, text

HERE = Path(__file__).parent
MIGRATION_LOCK = 0x6361756C  # "caul": the advisory lock id held while migrating


def earlier_sql(migration: str, name: str) -> str:
    """The SQL string `name` of a migration file in versions/ (their names start with digits: not importable as
    such), for a later migration that drops what it made and must make it again on the way down."""
    path = HERE / "versions" / migration
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(getattr(module, name))


def alembic_config(connection: Connection | None = None) -> AlembicConfig:
    config = AlembicConfig()
    config.set_main_option("script_location", str(HERE))
    config.attributes["connection"] = connection
    return config


def head() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": MIGRATION_LOCK})
        if revision == "head" and current(connection) == head():
            return
        command.upgrade(alembic_config(connection), revision)
