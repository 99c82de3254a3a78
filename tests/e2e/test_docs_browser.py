"""`/docs` in a real browser: Debian's headless Chromium, driven by Playwright, against the shop served on a real
socket. The page must list every operation of the document, let the user authorize with the key and try a route,
log no error, and fetch nothing from beyond this machine (every request is intercepted: one to any other host fails
the test). A screenshot is left in the test's tmp_path.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from flask import Flask

from cauldrons.app import create_app
from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from cauldrons.serving import serve_in_thread
from tests.helpers import API_KEY

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium on PATH (apt-get install chromium): Playwright cannot download its own here",
)


@pytest.fixture
def docs_app(sqlite_url: str) -> Iterator[Flask]:
    wiring = bootstrap(Config(sqlite_url, API_KEY))
    yield create_app(Config(sqlite_url, API_KEY), uow_factory=wiring.uow_factory)
    wiring.engine.dispose()


def test_the_docs_page_lists_every_operation_and_tries_one_with_the_key(docs_app: Flask, tmp_path: Path) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    document = docs_app.test_client().get("/openapi.json").get_json()
    operations = [(method, path) for path, item in document["paths"].items() for method in item]
    problems: list[str] = []
    beyond: list[str] = []

    def only_this_machine(route: Route) -> None:
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            beyond.append(route.request.url)
            route.abort()

    with serve_in_thread(docs_app) as base, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", only_this_machine)
            page.on("console", lambda message: problems.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: problems.append(str(error)))
            page.goto(f"{base}/docs")

            listed = page.locator(".opblock")
            expect(listed).to_have_count(len(operations), timeout=15_000)
            for method, path in operations:
                summary = page.locator(f".opblock-{method} .opblock-summary-path[data-path='{path}']")
                expect(summary).to_have_count(1)

            page.locator(".auth-wrapper button.authorize").click()
            page.locator(".auth-container input").fill(API_KEY)
            page.locator(".auth-btn-wrapper button.authorize").click()
            page.locator(".auth-btn-wrapper button.btn-done").click()

            audit = page.locator("#operations-inventory-audit")
            audit.locator(".opblock-summary").click()
            audit.locator("button.try-out__btn").click()
            audit.locator("button.execute").click()
            live = audit.locator(".live-responses-table .response")
            expect(live.locator(".response-col_status")).to_have_text("200", timeout=15_000)
            expect(live.locator(".response-col_description")).to_contain_text('"gold": 100')
            page.screenshot(path=tmp_path / "docs.png", full_page=True)
        finally:
            browser.close()

    assert not beyond, f"the page reached beyond this machine: {beyond}"
    assert not problems, f"the page logged errors: {problems}"
