"""`cauldrons simulate`: play a game against a shop (one served here on a temporary database, or one at a URL),
show progress, find the oracle's best fixed catalog for the same shoppers, print the summary and, for the shop
served here, write the report of the game (`cauldrons report`'s, with the game's gold against the oracle's) before
its database is removed; the CLI only parses its options."""

from __future__ import annotations

import json
import logging
import secrets
from contextlib import ExitStack
from pathlib import Path

from rich.console import Console

from cauldrons.config import DEV_API_KEY
from cauldrons.exchange import oracle, report, worlds
from cauldrons.exchange.embedded import embedded
from cauldrons.exchange.game import GameAborted, Result, Settings, play
from cauldrons.exchange.transport import HttpTransport, TransportError
from cauldrons.report import Outcome, write_report


class CannotPlay(Exception):
    """The shop could not be played at all (unreachable, a wrong key, not a shop)."""


def judge(result: Result) -> oracle.Verdict:
    """The oracle's best fixed catalog for the game's shoppers (also improved from the shop's best sellers)."""
    tally = result.tally
    start = oracle.from_sales(tally.potions_sold, tally.recipes, tally.prices)
    return oracle.best_catalog(worlds.named(result.settings.world), result.visits, starts=[start] if start else [])


def outcome(result: Result, verdict: oracle.Verdict | None) -> Outcome:
    """What the game earned, for the report: the figures of the summary's gold and oracle rows."""
    gold_end = result.books.gold
    shop_share = report.oracle_summary(verdict, gold_end)["shop_share"] if verdict is not None else None
    return Outcome(
        result.settings.world,
        result.settings.days,
        result.settings.seed,
        result.gold_start,
        gold_end,
        verdict.gold if verdict is not None else None,
        shop_share,
    )


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
    report_to: Path | None = None,
) -> bool:
    """Play the game and print its summary (JSON or a table); with `report_to`, write the game's report there
    (the shop served here only: a shop at a URL keeps its database to itself). Whether the shop passed. A bad `url`
    or `world`, or `report_to` with a `url`, is a ValueError; an empty report is `cauldrons.report.CannotReport`."""
    for noisy in ("alembic", "matplotlib"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    worlds.named(world)
    if report_to is not None and url is not None:
        raise ValueError("the report reads the shop's database: it is written for the shop served here only")
    settings = Settings(days=days, seed=seed, faults=faults, world=world)
    console = Console(stderr=True)
    with ExitStack() as stack:
        database_url = None
        if url is None:
            api_key = api_key or secrets.token_urlsafe(24)
            shop = stack.enter_context(embedded(api_key))
            url, database_url = shop.url, shop.database_url
        transport = HttpTransport(url, api_key or DEV_API_KEY)
        try:
            with report.ProgressReport(console) as progress:
                result = play(transport, settings, progress)
        except (GameAborted, TransportError) as err:
            raise CannotPlay(f"cannot play the shop at {url}: {err}") from None
        verdict = judge(result) if with_oracle else None
        if report_to is not None and database_url is not None:
            for path in write_report(database_url, report_to, console, outcome(result, verdict)):
                console.print(f"wrote {path}", markup=False, highlight=False, soft_wrap=True)
    if plot:
        report.plot(result, plot)
    if as_json:
        print(json.dumps(report.summary(result, verdict), indent=2))
    else:
        Console().print(report.table(result, verdict))
    return result.ok
