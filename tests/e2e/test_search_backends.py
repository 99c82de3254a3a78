"""Order search over HTTP on SQLite and PostgreSQL: page tokens carry each kind of sort value (text, whole numbers,
timestamps with their microseconds) through a real database and back, both ways; name needles of one and two
characters find their lines in every sort."""

import pytest

from tests.helpers import API_KEY, customer_json
from tests.routes.shop_client import ShopClient

SORTS = [
    (col, order) for col in ("customer_name", "item_sku", "line_item_total", "timestamp") for order in ("asc", "desc")
]


@pytest.mark.parametrize(("sort_col", "sort_order"), SORTS)
def test_walking_next_and_back_on_a_real_database(shop: ShopClient, sort_col: str, sort_order: str) -> None:
    shop.stock(potions=30)
    for i in range(12):
        cart_id = shop.open_cart({**customer_json(), "customer_name": f"Customer {i % 4}"})
        shop.set_item(cart_id, "RED_POTION", 1 + i % 3)
        assert shop.post(f"/carts/{cart_id}/checkout", json={"payment": "gold"}).status_code == 200

    def page(token: str = "") -> dict:  # type: ignore[type-arg]
        response = shop.client.get(
            "/carts/search/",
            query_string={"sort_col": sort_col, "sort_order": sort_order, "search_page": token},
            headers={"access_token": API_KEY},
        )
        assert response.status_code == 200, response.data
        return response.json  # type: ignore[no-any-return]

    pages = [page()]
    while pages[-1]["next"]:
        pages.append(page(pages[-1]["next"]))
    seen = [r["line_item_id"] for p in pages for r in p["results"]]
    assert len(seen) == len(set(seen)) == 12 and [len(p["results"]) for p in pages] == [5, 5, 2]
    assert page(pages[2]["previous"]) == pages[1] and page(pages[1]["previous"]) == pages[0]


@pytest.mark.parametrize(
    ("needle", "names"),
    [
        ("3", {"Customer 3"}),
        ("e", {f"Customer {i}" for i in range(4)}),
        (" 1", {"Customer 1"}),
        ("ER", {f"Customer {i}" for i in range(4)}),
        ("zz", set()),
    ],
)
def test_needles_of_one_and_two_characters_on_a_real_database(shop: ShopClient, needle: str, names: set[str]) -> None:
    shop.stock(potions=30)
    for i in range(12):
        cart_id = shop.open_cart({**customer_json(), "customer_name": f"Customer {i % 4}"})
        shop.set_item(cart_id, "RED_POTION", 1 + i % 3)
        assert shop.post(f"/carts/{cart_id}/checkout", json={"payment": "gold"}).status_code == 200

    def page(sort_col: str, sort_order: str, token: str = "") -> dict:  # type: ignore[type-arg]
        response = shop.client.get(
            "/carts/search/",
            query_string={
                "customer_name": needle,
                "sort_col": sort_col,
                "sort_order": sort_order,
                "search_page": token,
            },
            headers={"access_token": API_KEY},
        )
        assert response.status_code == 200, response.data
        return response.json  # type: ignore[no-any-return]

    for sort_col, sort_order in SORTS:
        pages = [page(sort_col, sort_order)]
        while pages[-1]["next"]:
            pages.append(page(sort_col, sort_order, pages[-1]["next"]))
        results = [r for p in pages for r in p["results"]]
        assert {r["customer_name"] for r in results} == names, (sort_col, sort_order)
        assert len({r["line_item_id"] for r in results}) == len(results) == 3 * len(names)
        if len(pages) > 1:
            assert page(sort_col, sort_order, pages[1]["previous"]) == pages[0]
