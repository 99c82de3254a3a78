"""`cauldrons report --out DIR`: the course's V4 deliverable from a shop's database. `metrics.md` shows each chart
(a PNG drawn by the dashboard's own chart code), the exact SQL that produced it (`adapters/metrics.py`), and its
first rows. Reads only: the engine never writes, and the database is left as it was."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from adapters import migrations
from adapters.db import make_engine
from adapters.metrics import METRICS
from adapters.unit_of_work import SqlAlchemyUnitOfWork
from domain.clock import utcnow
from domain.metrics import TITLES, Metric, MetricsQuery
from entrypoints.charts import render
from service_layer import views

SHOWN_ROWS = 12  # rows of each metric shown under its chart


class CannotReport(Exception):
    """The database is not a shop's, is not migrated, or holds nothing to report."""


@contextmanager
def _engine(database_url: str) -> Iterator[Engine]:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).is_file()):
        raise CannotReport(f"{url.database}: no such database file")
    engine = make_engine(database_url, read_only=True)
    try:
        yield engine
    finally:
        engine.dispose()


def _check(engine: Engine, shown: str) -> None:
    try:
        with engine.connect() as conn:
            revision, newest = migrations.current(conn), migrations.head()
            if revision is None:
                raise CannotReport(f"{shown} is not migrated (no shop schema): run `cauldrons migrate` first")
            if revision != newest:
                raise CannotReport(
                    f"{shown} is at schema revision {revision}, not {newest}: run `cauldrons migrate` first"
                )
            sold = conn.execute(text("SELECT COUNT(*) FROM sale_lines")).scalar_one()
            offered = conn.execute(text("SELECT COUNT(*) FROM barrel_offers")).scalar_one()
    except DBAPIError as err:
        raise CannotReport(f"cannot read {shown}: {str(err.orig).strip().splitlines()[0]}") from None
    if not sold and not offered:
        raise CannotReport(f"{shown} is empty: no sales and no barrel offers yet (play a game first)")


def _table(columns: tuple[str, ...], rows: list[dict[str, Any]]) -> list[str]:
    def cell(value: Any) -> str:
        return f"{value:.4f}" if isinstance(value, float) else str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows[:SHOWN_ROWS]]
    if len(rows) > SHOWN_ROWS:
        lines.append(f"\n… and {len(rows) - SHOWN_ROWS:,} more rows ({len(rows):,} in all).")
    return lines


def write_report(database_url: str, out: Path, console: Console) -> Path:
    """Write metrics.md and one PNG per chart into `out` (created if missing); return the path of metrics.md.
    Raises CannotReport for a database that is missing, not migrated, or empty."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    with _engine(database_url) as engine:
        _check(engine, shown)
        out.mkdir(parents=True, exist_ok=True)
        uow = SqlAlchemyUnitOfWork(engine)
        sections: list[str] = []
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("charts", total=len(Metric))
            for n, metric in enumerate(Metric, start=1):
                progress.update(task, description=f"{metric:<14}")
                definition = METRICS[metric]
                rows = views.metric(metric, MetricsQuery(), uow)["rows"]
                (out / f"{metric}.png").write_bytes(render(metric, TITLES[metric], rows, "png"))
                sections += [
                    f"## {n}. {TITLES[metric]}",
                    "",
                    definition.description,
                    "",
                    f"![{TITLES[metric]}]({metric}.png)",
                    "",
                    "The SQL (PostgreSQL and SQLite alike), run with every filter NULL (the whole history)"
                    + (f" and `:points` = {MetricsQuery().points}" if metric is Metric.BALANCES else "")
                    + ":",
                    "",
                    "```sql",
                    definition.sql.strip(),
                    "```",
                    "",
                    *_table(definition.columns, rows),
                    "",
                ]
                progress.advance(task)
    header = [
        "# Metrics: Central Coast Cauldrons",
        "",
        f"Generated by `cauldrons report` from `{shown}` at {views.moment(utcnow())}. Every chart is computed by "
        "the SQL shown beside it, the same the shop's `/metrics/...` routes and its live `/dashboard` run.",
        "",
    ]
    report = out / "metrics.md"
    report.write_text("\n".join(header + sections), encoding="utf-8")
    return report
