"""`cauldrons`: serve the shop, migrate its database, check its books, play it, or report its metrics."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import click

from cauldrons.config import Config, ConfigError


@click.group()
def main() -> None:
    """Central Coast Cauldrons, the potion shop."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    help="gunicorn worker processes on PostgreSQL [default: 2 x CPUs + 1]. SQLite, one writer at a time, is "
    "served by one.",
)
@click.option(
    "--read-timeout",
    default=10.0,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="Seconds a client may take over a request's headers (at most 5 are given) and twice that over its body; "
    "then it is dropped.",
)
def serve(host: str, port: int, workers: int | None, read_timeout: float) -> None:
    """Serve the shop (DATABASE_URL, default ./cauldrons.db; API_KEY; CORS_ORIGINS)."""
    from cauldrons.serving import run_gunicorn

    try:
        config = Config.from_env(host)
    except ConfigError as err:
        raise click.ClickException(str(err)) from None
    if config.database_url.startswith("sqlite"):
        if workers not in (None, 1):
            raise click.BadParameter(
                "SQLite has one writer and is served by one process: serve PostgreSQL (DATABASE_URL) for more workers",
                param_hint="--workers",
            )
        workers = 1
    run_gunicorn(config, host, port, workers or 2 * (os.cpu_count() or 1) + 1, read_timeout)


@main.command()
def migrate() -> None:
    """Bring the database to the newest schema and open the shop (serving does this too)."""
    from cauldrons.bootstrap import bootstrap

    config = Config.from_env(host="127.0.0.1")  # migrating serves nothing: the dev key is fine
    bootstrap(config).engine.dispose()
    click.echo(f"{config.database_url}: schema up to date, shop open")


@main.group()
def ledger() -> None:
    """Inspect the ledger."""


@ledger.command()
def verify() -> None:
    """Re-sum every entry and check every invariant of the books; exit 1 on any drift (DATABASE_URL)."""
    from adapters.verification import NotAShop, verify_database

    try:
        report = verify_database(Config.from_env(host="127.0.0.1").database_url)
    except NotAShop as err:
        raise click.ClickException(str(err)) from None
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@main.group()
def secret() -> None:
    """The shop's own secret, which signs the order search's page tokens."""


@secret.command()
def rotate() -> None:
    """Replace the secret that signs page tokens with a new random one, kept in the database (DATABASE_URL): every
    page token handed out before is refused from then on, by every running server. The API key is untouched."""
    from adapters.secrets import PAGE_TOKENS
    from cauldrons.bootstrap import bootstrap

    try:
        config = Config.from_env(host="127.0.0.1")  # rotating serves nothing: the dev key is fine
    except ConfigError as err:
        raise click.ClickException(str(err)) from None
    wiring = bootstrap(config)
    try:
        generation = wiring.uow_factory.secrets.rotate(PAGE_TOKENS)
    finally:
        wiring.engine.dispose()
    click.echo(f"page tokens are now signed with secret generation {generation}; every earlier token is refused")
    if config.secret_key:
        click.echo(
            "SECRET_KEY is set, and signs page tokens in its place while it is: change SECRET_KEY to retire them",
            err=True,
        )


@main.command()
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    metavar="DIR",
    help="Where to write metrics.md, its charts and strategy.md (created if missing).",
)
def report(out: Path) -> None:
    """Write the course's deliverable from the shop's database (DATABASE_URL): metrics.md with each chart as a PNG
    and the exact SQL behind it, and strategy.md, what the planner decided, on which data, and what it earned.
    Reads only."""
    from rich.console import Console

    from cauldrons.report import CannotReport, write_report

    logging.getLogger("alembic").setLevel(logging.WARNING)
    try:
        written = write_report(Config.from_env(host="127.0.0.1").database_url, out, Console(stderr=True))
    except CannotReport as err:
        raise click.ClickException(str(err)) from None
    for path in written:
        click.echo(f"wrote {path}")


@main.command()
@click.option(
    "--url",
    default=None,
    metavar="URL",
    help="The shop to play (it is reset first). Default: start one on a temporary SQLite database.",
)
@click.option(
    "--api-key",
    default=None,
    metavar="KEY",
    help="The shop's API key (access_token). Default: the dev key with --url, a fresh one without.",
)
@click.option("--days", default=7, show_default=True, type=click.IntRange(1, 365), help="Game days of 12 ticks.")
@click.option("--seed", default=0, show_default=True, type=int, help="Seeds customers, offers and faults.")
@click.option(
    "--faults",
    default=0.0,
    show_default=True,
    type=click.FloatRange(0, 0.9),
    help="Fraction of POSTs whose reply is lost (and retried, some later) or that are sent twice at once.",
)
@click.option(
    "--plot",
    type=click.Path(dir_okay=False),
    default=None,
    metavar="PNG",
    help="Write gold, ml and potions over the run to this PNG.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as JSON (progress goes to stderr).")
@click.option(
    "--world",
    default="2026",
    show_default=True,
    type=click.Choice(["2026", "classic"]),
    help="The world's rules: 2026 (docs/world-2026.md) or classic (the invented rules).",
)
@click.option(
    "--no-oracle",
    "no_oracle",
    is_flag=True,
    help="Skip the oracle (the best fixed catalog for the same shoppers, and the shop's gold / its gold).",
)
@click.option(
    "--report",
    "report_to",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    metavar="DIR",
    help="Write the game's report here (as `cauldrons report`, with the game's gold against the oracle's), from "
    "the shop served here: not with --url.",
)
def simulate(
    url: str | None,
    api_key: str | None,
    days: int,
    seed: int,
    faults: float,
    plot: str | None,
    as_json: bool,
    world: str,
    no_oracle: bool,
    report_to: Path | None,
) -> None:
    """Play the potion exchange against the shop over HTTP, with faults, checking its books after every tick, and
    compare its gold with the oracle's best fixed catalog for the same shoppers.

    Exits 1 if the books ever differed from the shop's, the shop broke the contract, or any 5xx came back."""
    from cauldrons.exchange.run import CannotPlay, run
    from cauldrons.report import CannotReport

    if report_to is not None and url is not None:
        raise click.BadParameter(
            "the report is read from the shop's database, which a shop at --url does not share: play without --url, "
            "or run `cauldrons report` where that shop's database is",
            param_hint="'--report'",
        )
    try:
        ok = run(url, api_key, days, seed, faults, plot, as_json, world, not no_oracle, report_to)
    except (CannotPlay, CannotReport) as err:
        raise click.ClickException(str(err)) from None
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--url") from None
    if not ok:
        raise SystemExit(1)
