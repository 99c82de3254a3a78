"""Headless Debian chromium for the browser tests (Playwright cannot download a browser of its own here): a page
that may fetch nothing beyond this machine, with every request, reach beyond and logged error kept."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import pytest

CHROMIUM = shutil.which("chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
needs_chromium = pytest.mark.skipif(
    CHROMIUM is None,
    reason="needs Debian's chromium on PATH (apt-get install chromium): Playwright cannot download its own here",
)


@dataclass
class Seen:
    urls: list[str] = field(default_factory=list)  # every request the page made
    beyond: list[str] = field(default_factory=list)  # those to another host (refused)
    problems: list[str] = field(default_factory=list)  # console errors and uncaught exceptions


@contextmanager
def watched_page(playwright: Any, width: int, height: int = 900) -> Iterator[tuple[Any, Seen]]:
    browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    seen = Seen()

    def only_this_machine(route: Any) -> None:
        seen.urls.append(route.request.url)
        if urlsplit(route.request.url).hostname == "127.0.0.1":
            route.continue_()
        else:
            seen.beyond.append(route.request.url)
            route.abort()

    try:
        page = browser.new_page(viewport={"width": width, "height": height})
        page.route("**/*", only_this_machine)
        page.on("console", lambda message: seen.problems.append(message.text) if message.type == "error" else None)
        page.on("pageerror", lambda error: seen.problems.append(str(error)))
        yield page, seen
    finally:
        browser.close()
