"""The route layer: the real app, its routes, schemas, auth and error handling, over the fake unit of work (every
test gets a new shop in memory). What the read side answers (metrics and charts, order search, history, balances at
a moment) only a database computes: tests/integration/test_read_routes.py. What only real servers can show lives in
tests/e2e."""

import pytest
from flask import Flask

from cauldrons.app import create_app
from cauldrons.config import Config
from service_layer import services
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.helpers import API_KEY
from tests.routes.shop_client import ShopClient


@pytest.fixture
def app() -> Flask:
    """pytest-flask's app: the shop over one in-memory store, opened as a new database would be."""
    store = FakeStore()
    services.open_shop(FakeUnitOfWork(store))
    return create_app(Config("sqlite://", API_KEY), uow_factory=lambda: FakeUnitOfWork(store))


@pytest.fixture
def shop(client) -> ShopClient:  # type: ignore[no-untyped-def]
    """pytest-flask's client, speaking the shop's API with its key."""
    return ShopClient(client)
