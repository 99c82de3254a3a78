"""Fixtures. Every database test gets a fresh database of its own: SQLite copied from a migrated file, PostgreSQL
created from a migrated template database. Both templates are built once per run by the real migrations."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters import migrations
from adapters.db import make_engine
from cauldrons.app import create_app
from cauldrons.bootstrap import Wiring, bootstrap
from cauldrons.config import Config
from tests.fakes import FakeUnitOfWork
from tests.helpers import API_KEY

PG_ADMIN_URL = os.environ.get("CAULDRONS_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")


def _pg_admin():  # type: ignore[no-untyped-def]
    return create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    return FakeUnitOfWork()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    migrations.upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    name = f"cauldrons_template_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(_pg_url(name))
    migrations.upgrade(engine)
    engine.dispose()
    yield name
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _pg_database(template: str) -> Iterator[str]:
    name = f"cauldrons_test_{uuid.uuid4().hex[:12]}"
    admin = _pg_admin()
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    yield _pg_url(name)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    yield from _pg_database(pg_template)


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each backend with no schema at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
    else:
        yield from _pg_database("template0")


@pytest.fixture
def sqlite_url(sqlite_template: Path, tmp_path: Path) -> str:
    path = tmp_path / "shop.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite:///{path}"


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, migrated database of each backend in turn."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgres": "pg_url"}[request.param])


@pytest.fixture
def wiring(database_url: str) -> Iterator[Wiring]:
    """The real wiring (migrated, shop opened) over a fresh database."""
    wired = bootstrap(Config(database_url, API_KEY))
    yield wired
    wired.engine.dispose()


@pytest.fixture
def app(database_url: str, wiring: Wiring):  # type: ignore[no-untyped-def]
    """pytest-flask's app: the real app over a fresh database of each backend."""
    return create_app(Config(database_url, API_KEY), uow_factory=wiring.uow_factory)
