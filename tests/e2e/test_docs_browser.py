"""`/docs` in a real browser: Debian's headless Chromium, driven by Playwright, against the shop served on a real
socket. The page must list every operation of the document, let the user authorize with the key and try a route,
log no error, and fetch nothing from beyond this machine (every request is intercepted: one to any other host fails
the test). A screenshot is left in the test's tmp_path.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from cauldrons.app import create_app
from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from cauldrons.serving import serve_in_thread
from tests.e2e.browser import needs_chromium, watched_page
from tests.helpers import API_KEY

pytestmark = needs_chromium


@pytest.fixture
def docs_app(sqlite_url: str) -> Iterator[Flask]:
    wiring = bootstrap(Config(sqlite_url, API_KEY))
    yield create_app(Config(sqlite_url, API_KEY), uow_factory=wiring.uow_factory)
    wiring.engine.dispose()


def test_the_docs_page_lists_every_operation_and_tries_one_with_the_key(docs_app: Flask, tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    document = docs_app.test_client().get("/openapi.json").get_json()
    operations = [(method, path) for path, item in document["paths"].items() for method in item]
    with serve_in_thread(docs_app) as base, sync_playwright() as playwright:
        with watched_page(playwright, 1280) as (page, seen):
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

    assert not seen.beyond, f"the page reached beyond this machine: {seen.beyond}"
    assert not seen.problems, f"the page logged errors: {seen.problems}"
