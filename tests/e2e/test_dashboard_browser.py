"""`/dashboard` in a real browser: Debian's headless Chromium, driven by Playwright, against a shop served on a real
socket after a day of `cauldrons simulate`'s game. The page asks for the key; once given, every chart must draw one
mark per row of its metric as the database computes it (each balance line one point per tick), the key must never
appear in a URL, nothing may be fetched from beyond this machine, and nothing may be logged as an error. On a
phone's width the charts stand in one column. Screenshots are left in the test's tmp_path (and in
$CAULDRONS_ARTIFACTS if set).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from cauldrons.app import create_app
from cauldrons.bootstrap import Wiring, bootstrap
from cauldrons.config import Config
from cauldrons.exchange.game import Settings, play
from cauldrons.exchange.transport import HttpTransport
from cauldrons.serving import serve_in_thread
from domain.metrics import Metric, MetricsQuery
from entrypoints.charts import series
from service_layer import views
from tests.e2e.browser import needs_chromium, watched_page
from tests.helpers import API_KEY

pytestmark = needs_chromium
MARKS_PER_ROW = {Metric.CONVERSION: 2}  # visitors and checkouts; every other chart one mark per row


@pytest.fixture
def shop_wiring(sqlite_url: str) -> Iterator[Wiring]:
    wiring = bootstrap(Config(sqlite_url, API_KEY))
    yield wiring
    wiring.engine.dispose()


def expected_marks(wiring: Wiring) -> dict[Metric, object]:
    """What each chart must draw, from the metrics as the database computes them: a count of marks, or for the
    balances the points of each line."""
    expected: dict[Metric, object] = {}
    for metric in Metric:
        rows = views.metric(metric, MetricsQuery(), wiring.uow_factory())["rows"]
        assert rows, f"the game left no {metric}"
        if metric is Metric.BALANCES:
            expected[metric] = {name.replace(":", "-"): len(points) for name, points in series(rows).items()}
        else:
            expected[metric] = MARKS_PER_ROW.get(metric, 1) * len(rows)
    return expected


def drawn(page, metric: Metric) -> object:  # type: ignore[no-untyped-def]
    chart = page.locator(f"section[data-metric='{metric}'] .figure")
    if metric is Metric.BALANCES:
        return chart.evaluate(
            "f => Object.fromEntries(Array.from(f.querySelectorAll('g[id^=\"series-\"]'))"
            ".map(g => [g.id.slice(7), g.querySelectorAll('use').length]))"
        )
    return chart.locator("[id^='mark-']").count()


def test_the_dashboard_draws_every_chart_from_the_database_after_a_game(shop_wiring: Wiring, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    app = create_app(Config("sqlite://", API_KEY), uow_factory=shop_wiring.uow_factory)
    artifacts = [tmp_path] + (
        [Path(os.environ["CAULDRONS_ARTIFACTS"])] if os.environ.get("CAULDRONS_ARTIFACTS") else []
    )
    with serve_in_thread(app) as base, sync_playwright() as playwright:
        result = play(HttpTransport(base, API_KEY), Settings(days=1, seed=3))
        assert result.ok
        expected = expected_marks(shop_wiring)
        with watched_page(playwright, 1366) as (page, seen):
            page.goto(f"{base}/dashboard")
            expect(page.locator("#status")).to_contain_text("API key")
            assert page.locator("svg").count() == 0  # nothing without the key

            page.locator("#key").fill(API_KEY)
            page.locator("#key-form button[type=submit]").click()
            expect(page.locator("body[data-ready='true']")).to_have_count(1, timeout=20_000)
            for metric in Metric:
                assert drawn(page, metric) == expected[metric], metric
            assert page.locator("#key").input_value() == ""  # the key left the form for sessionStorage
            expect(page.locator("#key-form")).to_be_hidden()
            expect(page.locator("#forget")).to_be_visible()
            for folder in artifacts:
                folder.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=folder / "dashboard.png", full_page=True)

            page.set_viewport_size({"width": 390, "height": 844})  # a phone
            lefts = {round(box["x"]) for box in (s.bounding_box() for s in page.locator("section.chart").all()) if box}
            assert len(lefts) == 1, f"the charts are not in one column on a phone: {lefts}"
            for folder in artifacts:
                page.screenshot(path=folder / "dashboard-phone.png", full_page=True)

    assert not seen.beyond, f"the page reached beyond this machine: {seen.beyond}"
    assert not seen.problems, f"the page logged errors: {seen.problems}"
    assert not [u for u in seen.urls if API_KEY in u], "the key appeared in a URL"
    assert any(u.endswith("/dashboard/charts/balances.svg") for u in seen.urls)
