"""`/dashboard` in a real browser: Debian's headless Chromium, driven by Playwright, against a shop served on a real
socket. The page asks for the key; once given, it fetches every metric's rows (`GET /metrics/<metric>`, the key in
a header and never in a URL) and draws each chart in the browser, shaped into a bounded chart exactly as
`entrypoints/charts.py` shapes it for the report (the same count of bars and points). Nothing may be fetched from
beyond this machine and nothing logged as an error (a script or style the page's Content-Security-Policy refused
would be). Text the exchange sent (hostile day names, classes, species, skus) shows as text, and no script of it
runs. One request at a time, one refresh at a time, none while the tab is hidden. On a phone's width the charts
stand in one column. Screenshots are left in the test's tmp_path (and in $CAULDRONS_ARTIFACTS if set).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cauldrons.app import create_app
from cauldrons.bootstrap import Wiring, bootstrap
from cauldrons.config import Config
from cauldrons.exchange.game import Settings, play
from cauldrons.exchange.transport import HttpTransport
from cauldrons.serving import serve_in_thread
from domain.metrics import Metric, MetricsQuery
from entrypoints.charts import shape
from service_layer import views
from tests.e2e.browser import needs_chromium, watched_page
from tests.helpers import API_KEY
from tests.hostile_game import DAYS, PAYLOADS, play_hostile

pytestmark = needs_chromium
ROUND = len(Metric)  # requests of one refresh: every metric once


@pytest.fixture
def shop_wiring(sqlite_url: str) -> Iterator[Wiring]:
    wiring = bootstrap(Config(sqlite_url, API_KEY))
    yield wiring
    wiring.engine.dispose()


def expected_marks(wiring: Wiring) -> dict[Metric, int]:
    """The bars and points each chart must draw: its metric's rows as the database computes them, shaped."""
    expected: dict[Metric, int] = {}
    for metric in Metric:
        rows = views.metric(metric, MetricsQuery(), wiring.uow_factory())["rows"]
        assert rows, f"the game left no {metric}"
        expected[metric] = shape(metric, rows).marks
    return expected


def drawn(page: Any) -> dict[Metric, int]:
    return {m: int(page.locator(f"section[data-metric='{m}']").get_attribute("data-marks") or -1) for m in Metric}


def show_the_key(page: Any, base: str) -> None:
    from playwright.sync_api import expect

    page.goto(f"{base}/dashboard")
    expect(page.locator("#status")).to_contain_text("API key")
    assert page.locator("canvas").count() == 0  # nothing without the key
    page.locator("#key").fill(API_KEY)
    page.locator("#key-form button[type=submit]").click()
    expect(page.locator("body[data-ready='true']")).to_have_count(1, timeout=20_000)


def http(base: str) -> Any:
    transport = HttpTransport(base, API_KEY)

    def send(path: str, body: Any) -> tuple[int, Any]:
        answer = transport.post(path, body)
        return answer.status, answer.json() if answer.body else None

    return send


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
            show_the_key(page, base)
            assert drawn(page) == expected
            assert page.locator("section[data-metric='balances'] canvas").count() >= 4  # four panels
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
    assert {u.split("/metrics/")[1] for u in seen.urls if "/metrics/" in u} == {str(m) for m in Metric}
    assert not [u for u in seen.urls if "/dashboard/charts/" in u]  # the shop draws no chart


def test_hostile_text_shows_as_text_on_every_chart_and_runs_no_script(shop_wiring: Wiring, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    app = create_app(Config("sqlite://", API_KEY), uow_factory=shop_wiring.uow_factory)
    with serve_in_thread(app) as base, sync_playwright() as playwright:
        play_hostile(http(base))
        expected = expected_marks(shop_wiring)
        with watched_page(playwright, 1366) as (page, seen):
            dialogs: list[str] = []
            page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
            show_the_key(page, base)
            assert drawn(page) == expected
            page.screenshot(path=tmp_path / "dashboard-hostile.png", full_page=True)
            text = {m: page.locator(f"section[data-metric='{m}'] .data table").text_content() or "" for m in Metric}
            for day in DAYS:
                for metric in (Metric.SALES_BY_HOUR, Metric.BARREL_OFFERS, Metric.CONVERSION, Metric.PROFIT):
                    assert day in text[metric], (metric, day)
            for i, payload in enumerate(PAYLOADS):
                assert f"{payload} / {PAYLOADS[(i + 1) % len(PAYLOADS)]}" in text[Metric.BUYERS]
            assert page.locator("main script, main img, main b, main style").count() == 0  # no markup was made
            assert page.evaluate("document.scripts.length") == 2  # uPlot and the dashboard's, no other

    assert not dialogs, f"a script of the exchange's text ran: {dialogs}"
    assert not seen.problems, f"the page logged errors: {seen.problems}"
    assert not seen.beyond


def test_one_refresh_at_a_time_and_none_while_the_tab_is_hidden(shop_wiring: Wiring) -> None:
    """A round asks the metrics one after another; the next round starts REFRESH_MS (5 s) after the last one ended,
    however long that one took; a hidden tab asks nothing, and a tab shown again refreshes at once."""
    from playwright.sync_api import expect, sync_playwright

    app = create_app(Config("sqlite://", API_KEY), uow_factory=shop_wiring.uow_factory)
    with serve_in_thread(app) as base, sync_playwright() as playwright:
        play_hostile(http(base))
        with watched_page(playwright, 1366) as (page, seen):
            asked: list[str] = []
            held: list[Any] = []
            hold = [False]
            in_flight, most = [0], [0]

            def sent(request: Any) -> None:
                if "/metrics/" in request.url:
                    asked.append(request.url)
                    in_flight[0] += 1
                    most[0] = max(most[0], in_flight[0])

            def ended(request: Any) -> None:
                if "/metrics/" in request.url:
                    in_flight[0] -= 1

            page.on("request", sent)
            page.on("requestfinished", ended)
            page.on("requestfailed", ended)

            def maybe_hold(route: Any) -> None:
                if hold[0]:
                    held.append(route)
                else:
                    route.fallback()

            page.route("**/metrics/profit", maybe_hold)
            page.clock.install()

            def rounds(n: int) -> None:
                expect(page.locator(f"body[data-rounds='{n}']")).to_have_count(1, timeout=20_000)

            show_the_key(page, base)
            rounds(1)
            assert len(asked) == ROUND
            page.clock.run_for(4_000)
            assert len(asked) == ROUND  # not yet

            hold[0] = True  # the next round's profit does not come back
            page.clock.run_for(1_100)
            page.wait_for_timeout(500)  # (real time) the other five answers arrive
            assert len(asked) == 2 * ROUND and len(held) == 1
            page.clock.run_for(30_000)
            page.wait_for_timeout(300)
            assert len(asked) == 2 * ROUND, "a new round started before the last one ended"
            hold[0] = False
            held.pop().fallback()
            rounds(2)
            page.clock.run_for(5_100)
            rounds(3)
            assert len(asked) == 3 * ROUND

            page.evaluate(
                "() => { Object.defineProperty(document, 'hidden', {configurable: true, get: () => true});"
                " Object.defineProperty(document, 'visibilityState', {configurable: true, get: () => 'hidden'});"
                " document.dispatchEvent(new Event('visibilitychange')); }"
            )
            expect(page.locator("#status")).to_contain_text("hidden")
            page.clock.run_for(60_000)
            page.wait_for_timeout(300)
            assert len(asked) == 3 * ROUND, "a hidden tab refreshed"
            page.evaluate(
                "() => { delete document.hidden; delete document.visibilityState;"
                " document.dispatchEvent(new Event('visibilitychange')); }"
            )
            rounds(4)
            assert len(asked) == 4 * ROUND
            assert most[0] == 1  # a tab has one request at the shop at a time

    assert not seen.problems, f"the page logged errors: {seen.problems}"
