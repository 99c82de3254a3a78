import pytest

from tests.e2e.shop_client import ShopClient


@pytest.fixture
def shop(client) -> ShopClient:  # type: ignore[no-untyped-def]
    """pytest-flask's client, speaking the shop's API with its key."""
    return ShopClient(client)
