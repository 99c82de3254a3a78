"""`cauldrons`: serve the shop, or migrate its database."""
from __future__ import annotations

import logging

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
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Worker processes. On PostgreSQL the shop is always served by gunicorn; on SQLite by the "
                   "development server unless --workers > 1.")
@click.option("--threads", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Threads per gunicorn worker.")
def serve(host: str, port: int, workers: int, threads: int) -> None:
    """Serve the shop (DATABASE_URL, default ./cauldrons.db; API_KEY)."""
    from cauldrons.app import create_app
    from cauldrons.serving import run_dev_server, run_gunicorn

    try:
        config = Config.from_env(host)
    except ConfigError as err:
        raise click.ClickException(str(err)) from None
    if config.database_url.startswith("sqlite") and workers == 1 and threads == 1:
        run_dev_server(create_app(config), host, port)
    else:
        run_gunicorn(config, host, port, workers, threads)


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
    from adapters.db import make_engine
    from adapters.verification import verify as verify_books

    engine = make_engine(Config.from_env(host="127.0.0.1").database_url)
    try:
        with engine.connect() as connection:
            report = verify_books(connection)
    finally:
        engine.dispose()
    for line in report.lines():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)
