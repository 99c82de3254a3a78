"""Fixtures. Every database test gets a fresh database of its own: SQLite copied from a migrated file, PostgreSQL
created from a migrated template database. Both templates are built once per run by the real migrations."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from adapters import migrations
from adapters.db import make_engine
from cauldrons.app import create_app
from cauldrons.bootstrap import Wiring, bootstrap
from cauldrons.config import Config
from cauldrons.testing import fresh_pg_database
from tests.fakes import FakeUnitOfWork
from tests.helpers import API_KEY


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
    """A migrated PostgreSQL database that test databases are copied from; yields its name."""
    with fresh_pg_database(prefix="cauldrons_template") as url:
        engine = make_engine(url)
        migrations.upgrade(engine)
        engine.dispose()
        yield str(make_url(url).database)


@pytest.fixture
def pg_url(pg_template: str) -> Iterator[str]:
    with fresh_pg_database(pg_template) as url:
        yield url


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database of each backend with no schema at all, for migration tests."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/empty.db"
    else:
        with fresh_pg_database("template0") as url:
            yield url


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
