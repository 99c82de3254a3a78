"""`cauldrons simulate`: play a game against a shop (one served here on a temporary database, or one at a URL),
show progress, find the oracle's best fixed catalog for the same shoppers, and print the summary; the CLI only
parses its options."""

from __future__ import annotations

import json
import logging
import secrets
from contextlib import ExitStack

from rich.console import Console

from cauldrons.config import DEV_API_KEY
from cauldrons.exchange import oracle, report, worlds
from cauldrons.exchange.embedded import embedded_shop
from cauldrons.exchange.game import GameAborted, Result, Settings, play
from cauldrons.exchange.transport import HttpTransport, TransportError


class CannotPlay(Exception):
    """The shop could not be played at all (unreachable, a wrong key, not a shop)."""


def judge(result: Result) -> oracle.Verdict:
    """The oracle's best fixed catalog for the game's shoppers (also improved from the shop's best sellers)."""
    tally = result.tally
    start = oracle.from_sales(tally.potions_sold, tally.recipes, tally.prices)
    return oracle.best_catalog(worlds.named(result.settings.world), result.visits, starts=[start] if start else [])


def run(
    url: str | None,
    api_key: str | None,
    days: int,
    seed: int,
    faults: float,
    plot: str | None,
    as_json: bool,
    world: str = worlds.DEFAULT,
    with_oracle: bool = True,
) -> bool:
    """Play the game and print its summary (JSON or a table); whether the shop passed. A bad `url` or `world` is
    a ValueError."""
    for noisy in ("alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    worlds.named(world)
    settings = Settings(days=days, seed=seed, faults=faults, world=world)
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
    verdict = judge(result) if with_oracle else None
    if plot:
        report.plot(result, plot)
    if as_json:
        print(json.dumps(report.summary(result, verdict), indent=2))
    else:
        Console().print(report.table(result, verdict))
    return result.ok
