"""The metrics routes and the dashboard over HTTP, on the fakes: bad input refused naming the parameter, the key
required for data but not for the page. The rows and the charts drawn from them come from the database: they are
tests/integration/test_read_routes.py's."""

from __future__ import annotations

import pytest

from tests.routes.shop_client import ShopClient, assert_error
from tests.routes.test_ledger_routes import assert_invalid


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("hour=24", "hour"),
        ("hour=two", "hour"),
        ("since=yesterday", "since"),
        ("until=2026-13-01", "until"),
        ("day=", "day"),
        ("colour=red", "colour"),
        ("hour=1&hour=2", "hour"),
    ],
)
def test_a_bad_query_is_a_422_naming_the_parameter(shop: ShopClient, query, field):
    assert_invalid(shop.get(f"/metrics/sales_by_hour?{query}"), 422, field)


def test_the_balances_take_points_but_no_game_time(shop: ShopClient):
    assert_invalid(shop.get("/metrics/balances?points=0"), 422, "points")
    assert_invalid(shop.get("/metrics/balances?points=1001"), 422, "points")
    assert_invalid(shop.get("/metrics/balances?day=Edgeday"), 422, "day")
    assert_invalid(shop.get("/metrics/profit?points=3"), 422, "points")


def test_metrics_need_the_key_and_the_page_does_not(shop: ShopClient):
    for path in ("/metrics/sales_by_hour", "/metrics/profit"):
        assert_error(shop.get(path, auth=False), 401, "unauthorized")
        assert_error(shop.get(path, auth="not-the-key"), 401, "unauthorized")
    page = shop.get("/dashboard", auth=False)
    assert page.status_code == 200 and page.content_type == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert b"<script>" not in page.data  # no inline script: the policy would refuse it
    assert "style-src 'self';" in csp
    for asset in ("dashboard.js", "dashboard.css", "uPlot.iife.min.js", "uPlot.min.css"):
        assert shop.get(f"/dashboard/assets/{asset}", auth=False).status_code == 200
    assert shop.get("/dashboard/assets/index.html", auth=False).status_code == 404
    assert_error(shop.get("/dashboard/charts/profit.svg"), 404, "not_found")  # charts are drawn in the browser
