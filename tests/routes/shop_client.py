"""A thin wrapper over pytest-flask's test client for the e2e tests (a helper, not a fixture).

It sends the shop's API key in `access_token`, JSON bodies as `application/json`, and an `Idempotency-Key` header
when asked. A few arrangement steps (free ml, bottling, an open cart) are spelled as HTTP calls, so tests arrange the
shop exactly as the simulator would.
"""

from __future__ import annotations

import json as jsonlib
from typing import Any

from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from tests.helpers import ALICE, API_KEY, customer_json, random_order_id

RED_RECIPE = [100, 0, 0, 0]


class ShopClient:
    def __init__(self, client: FlaskClient, api_key: str = API_KEY) -> None:
        self.client = client
        self.api_key = api_key

    def _headers(self, auth: bool | str, key: str | None) -> dict[str, str]:
        """`auth`: True sends the shop's key, False sends none, a string is sent as the key."""
        headers = {}
        if auth is not False:
            headers["access_token"] = self.api_key if auth is True else auth
        if key is not None:
            headers["Idempotency-Key"] = key
        return headers

    def get(self, path: str, auth: bool | str = True) -> TestResponse:
        return self.client.get(path, headers=self._headers(auth, None))

    def post(
        self,
        path: str,
        json: Any = None,
        data: str | bytes | None = None,
        key: str | None = None,
        auth: bool | str = True,
    ) -> TestResponse:
        """POST `json` (encoded here) or `data` (sent as is); neither means an empty body."""
        body = jsonlib.dumps(json) if json is not None else data
        return self.client.post(path, data=body, content_type="application/json", headers=self._headers(auth, key))

    # --- reading and arranging the shop over HTTP ----------------------------------------------------------------

    def audit(self) -> dict[str, int]:
        response = self.get("/inventory/audit")
        assert response.status_code == 200, response.data
        return response.json  # type: ignore[no-any-return]

    def give_ml(self, recipe: list[int], potions: int) -> None:
        """A free barrel (price 0) with enough ml of `recipe` for `potions` potions."""
        barrel = {
            "sku": "FREE_SAMPLE_BARREL",
            "ml_per_barrel": 100 * potions,
            "potion_type": [part / 100 for part in recipe],
            "price": 0,
            "quantity": 1,
        }
        response = self.post(f"/barrels/deliver/{random_order_id()}", json=[barrel])
        assert response.status_code == 204, response.data

    def bottle(self, recipe: list[int], potions: int) -> None:
        response = self.post(
            f"/bottler/deliver/{random_order_id()}", json=[{"potion_type": recipe, "quantity": potions}]
        )
        assert response.status_code == 204, response.data

    def stock(self, recipe: list[int] = RED_RECIPE, potions: int = 1) -> None:
        """Put `potions` potions of `recipe` on the shelf without spending gold."""
        self.give_ml(recipe, potions)
        self.bottle(recipe, potions)

    def open_cart(self, customer: dict[str, object] | None = None) -> int:
        response = self.post("/carts/", json=customer or customer_json(ALICE))
        assert response.status_code == 200, response.data
        return response.json["cart_id"]  # type: ignore[no-any-return]

    def set_item(self, cart_id: int, sku: str, quantity: int) -> None:
        response = self.post(f"/carts/{cart_id}/items/{sku}", json={"quantity": quantity})
        assert response.status_code == 204 and response.data == b"", response.data


def assert_error(response: TestResponse, status: int, code: str) -> None:
    """A JSON refusal with this status and code, and never a replay."""
    assert response.status_code == status, response.data
    assert response.content_type == "application/json"
    assert response.json["error"] == code
    assert response.json["message"]
    assert "Idempotent-Replayed" not in response.headers
