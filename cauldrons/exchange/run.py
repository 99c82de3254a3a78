"""`cauldrons simulate`: play a game against a shop (one served here on a temporary database, or one at a URL),
show progress, and print the summary; the CLI only parses its options."""

from __future__ import annotations

import json
import logging
import secrets
from contextlib import ExitStack

from rich.console import Console

from cauldrons.config import DEV_API_KEY
from cauldrons.exchange import report
from cauldrons.exchange.embedded import embedded_shop
from cauldrons.exchange.game import GameAborted, Settings, play
from cauldrons.exchange.transport import HttpTransport, TransportError


class CannotPlay(Exception):
    """The shop could not be played at all (unreachable, a wrong key, not a shop)."""


def run(
    url: str | None, api_key: str | None, days: int, seed: int, faults: float, plot: str | None, as_json: bool
) -> bool:
    """Play the game and print its summary (JSON or a table); whether the shop passed. A bad `url` is a
    ValueError."""
    for noisy in ("alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = Settings(days=days, seed=seed, faults=faults)
    with ExitStack() as stack:
        if url is None:
            api_key = api_key or secrets.token_urlsafe(24)
            url = stack.enter_context(embedded_shop(api_key))
        transport = HttpTransport(url, api_key or DEV_API_KEY)
        progress = stack.enter_context(report.ProgressReport(Console(stderr=True)))
        try:
            result = play(transport, settings, progress)
        except (GameAborted, TransportError) as err:
            raise CannotPlay(f"cannot play the shop at {url}: {err}") from None
    if plot:
        report.plot(result, plot)
    if as_json:
        print(json.dumps(report.summary(result), indent=2))
    else:
        Console().print(report.table(result))
    return result.ok
