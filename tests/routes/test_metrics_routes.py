"""The metrics routes and the dashboard over HTTP, on the fakes: JSON per metric, filters from the query string,
bad input refused naming the parameter, the key required for data but not for the page, and each chart's SVG
drawing one mark per row."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from flask import Flask

from cauldrons.app import create_app
from cauldrons.config import Config
from domain.metrics import Metric
from entrypoints.charts import series
from service_layer import services
from tests.fakes import FakeStore, FakeUnitOfWork
from tests.helpers import API_KEY, WHOLESALE, barrel_json
from tests.metrics_game import EXPECTED, play
from tests.routes.shop_client import ShopClient, assert_error
from tests.routes.test_ledger_routes import assert_invalid


@pytest.fixture
def store() -> FakeStore:
    store = FakeStore()
    services.open_shop(FakeUnitOfWork(store))
    return store


@pytest.fixture
def app(store: FakeStore) -> Flask:
    return create_app(Config("sqlite://", API_KEY), uow_factory=lambda: FakeUnitOfWork(store))


@pytest.fixture
def played(store: FakeStore) -> FakeStore:
    play(lambda: FakeUnitOfWork(store))
    return store


@pytest.mark.parametrize("metric", sorted(EXPECTED))
def test_each_metric_answers_its_rows_as_json(shop: ShopClient, played, metric):
    answer = shop.get(f"/metrics/{metric}")
    assert answer.status_code == 200
    assert answer.json == {"metric": str(metric), "rows": EXPECTED[metric]}


def test_the_query_string_filters_the_rows(shop: ShopClient, played):
    sales = EXPECTED[Metric.SALES_BY_HOUR]
    assert shop.get("/metrics/sales_by_hour?day=Edgeday&hour=2").json["rows"] == [sales[1]]
    assert shop.get("/metrics/sales_by_hour?until=2000-01-01T00:00:00Z").json["rows"] == []
    assert shop.get("/metrics/profit?since=2000-01-01T00:00:00%2B02:00").json["rows"] == EXPECTED[Metric.PROFIT]
    balances = shop.get("/metrics/balances?points=1").json["rows"]
    assert sorted({(r["day"], r["hour"]) for r in balances}) == [("Bloomday", 0), ("Edgeday", 0)]
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", r["at"]) for r in balances)


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


def test_metrics_and_charts_need_the_key_and_the_page_does_not(shop: ShopClient):
    for path in ("/metrics/sales_by_hour", "/dashboard/charts/profit.svg"):
        assert_error(shop.get(path, auth=False), 401, "unauthorized")
        assert_error(shop.get(path, auth="not-the-key"), 401, "unauthorized")
    page = shop.get("/dashboard", auth=False)
    assert page.status_code == 200 and page.content_type == "text/html; charset=utf-8"
    csp = page.headers["Content-Security-Policy"]
    assert "script-src 'self';" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert b"<script>" not in page.data  # no inline script: the policy would refuse it
    for asset in ("dashboard.js", "dashboard.css"):
        assert shop.get(f"/dashboard/assets/{asset}", auth=False).status_code == 200
    assert shop.get("/dashboard/assets/index.html", auth=False).status_code == 404
    assert_error(shop.get("/dashboard/charts/nothing.svg"), 404, "not_found")


MARKS: dict[Metric, Callable[[list[dict[str, object]]], int]] = {
    Metric.SALES_BY_HOUR: len,
    Metric.BARREL_OFFERS: len,
    Metric.BUYERS: len,
    Metric.CONVERSION: lambda rows: 2 * len(rows),
    Metric.PROFIT: len,
}


@pytest.mark.parametrize("metric", list(Metric))
def test_each_chart_draws_a_mark_per_row_of_its_metric(shop: ShopClient, played, metric):
    answer = shop.get(f"/dashboard/charts/{metric}.svg")
    assert answer.status_code == 200 and answer.content_type == "image/svg+xml"
    svg = answer.get_data(as_text=True)
    rows = shop.get(f"/metrics/{metric}").json["rows"]
    if metric is Metric.BALANCES:
        lines = series(rows)
        found = {
            m.group(1): m.group(2).count("<use ")
            for m in re.finditer(r'<g id="series-([^"]+)">(.*?)</g>\s*</g>', svg, re.S)
        }
        assert found == {name.replace(":", "-"): len(points) for name, points in lines.items()}
        assert set(found) >= {"gold", "potions", "potion_capacity", "ml_capacity"}
    else:
        assert len(re.findall(rf'<g id="mark-{metric}-\d+"', svg)) == MARKS[metric](rows) > 0


def test_a_chart_of_nothing_says_so(shop: ShopClient):
    svg = shop.get("/dashboard/charts/sales_by_hour.svg").get_data(as_text=True)
    assert "no data yet" in svg and 'id="mark-' not in svg


def test_the_barrel_plan_replies_as_before_and_records_the_offers_once_per_tick(shop: ShopClient, store):
    offers = [barrel_json(b) for b in WHOLESALE]
    before = shop.post("/barrels/plan", offers)
    shop.post("/info/current_time", {"day": "Edgeday", "hour": 0})
    first, again = shop.post("/barrels/plan", offers), shop.post("/barrels/plan", offers)
    assert before.data == first.data == again.data and first.status_code == 200
    assert len(store.offers) == len(WHOLESALE)
    assert len(shop.get("/metrics/barrel_offers").json["rows"]) == len(WHOLESALE)
