import pytest

from tests.routes.shop_client import ShopClient


@pytest.fixture
def shop(client) -> ShopClient:  # type: ignore[no-untyped-def]
    """pytest-flask's client, speaking the shop's API with its key."""
    return ShopClient(client)
