"""`cauldrons report --out DIR`: the course's V4 deliverable from a shop's database. `metrics.md` shows each chart
(a PNG drawn by matplotlib in `entrypoints/charts.py`: the charts the live dashboard draws in the browser), the
exact SQL that produced it (`adapters/metrics.py`), and its first rows; `strategy.md` shows what the planner decided
each game day, on which data, what it earned and what it learned (`service_layer/strategy.py`), and, for a game
`cauldrons simulate` just played, its gold against the oracle's. Reads only: the engine never writes, and the
database is left as it was. Text the exchange sent (day and class names, skus) is data: it is escaped wherever
markdown or HTML would read it as markup, and drawn as it is on the charts (matplotlib's mathtext is off there)."""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
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
from cauldrons.bootstrap import unit_of_work
from domain.clock import utcnow
from domain.metrics import TITLES, Metric, MetricsQuery
from domain.potions import COLOURS
from entrypoints.charts import render
from service_layer import views
from service_layer.strategy import strategy

SHOWN_ROWS = 12  # rows of each metric shown under its chart


class CannotReport(Exception):
    """The database is not a shop's, is not migrated, or holds nothing to report."""


@dataclass(frozen=True)
class Outcome:
    """What a game `cauldrons simulate` just played earned: the shop's gold at its start and end, and the oracle's
    gold for the same shoppers with the shop's share of it (None when the oracle was skipped)."""

    world: str
    days: int
    seed: int
    gold_start: int
    gold_end: int
    oracle_gold: int | None = None
    ratio: float | None = None


# Characters markdown or HTML may read as markup anywhere in a line: backslash escapes, code, emphasis, links,
# HTML and autolinks, entities, table cells, strikethrough and math; an underscore only where it can open or close
# emphasis (not between two letters or digits, as in RED_POTION).
_MARKUP = re.compile(r"[\\`*\[\]<>&|~$]|(?<![^\W_])_|_(?![^\W_])")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def escape(text: str) -> str:
    """`text` as markdown that shows it literally, on one line (control characters and line breaks become spaces)."""
    return _MARKUP.sub(lambda m: "\\" + m.group(), _CONTROL.sub(" ", text))


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
        return f"{value:.4f}" if isinstance(value, float) else escape(str(value))

    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(cell(row[c]) for c in columns) + " |" for row in rows[:SHOWN_ROWS]]
    if len(rows) > SHOWN_ROWS:
        lines.append(f"\n… and {len(rows) - SHOWN_ROWS:,} more rows ({len(rows):,} in all).")
    return lines


def write_report(database_url: str, out: Path, console: Console, outcome: Outcome | None = None) -> list[Path]:
    """Write metrics.md with one PNG per chart, and strategy.md (with `outcome`, what the game earned against the
    oracle), into `out` (created if missing); return the paths of the two documents. Raises CannotReport for a
    database that is missing, not migrated, or empty."""
    shown = make_url(database_url).render_as_string(hide_password=True)
    with _engine(database_url) as engine:
        _check(engine, shown)
        out.mkdir(parents=True, exist_ok=True)
        uow = unit_of_work(engine)
        sections: list[str] = []
        columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn()]
        with Progress(*columns, console=console, transient=False) as progress:
            task = progress.add_task("charts", total=len(Metric))
            for n, metric in enumerate(Metric, start=1):
                progress.update(task, description=f"{metric:<14}")
                definition = METRICS[metric]
                rows = views.metric(metric, MetricsQuery(), uow)["rows"]
                (out / f"{metric}.png").write_bytes(render(metric, TITLES[metric], rows))
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
        plan = strategy(uow)
    at = views.moment(utcnow())
    generated = (
        f"Generated by `cauldrons report` from `{shown}` at {at}."
        if outcome is None
        else f"Generated by `cauldrons simulate --report` at {at} from the shop it played, on a database removed "
        "after the game."
    )
    header = [
        "# Metrics: Central Coast Cauldrons",
        "",
        f"{generated} Every chart is computed by the SQL shown beside it, the same the shop's `/metrics/...` routes "
        "and its live `/dashboard` run. What the planner made of the same game: [strategy.md](strategy.md).",
        "",
    ]
    metrics = out / "metrics.md"
    metrics.write_text("\n".join(header + sections), encoding="utf-8")
    strategy_md = out / "strategy.md"
    strategy_md.write_text(strategy_markdown(plan, generated, outcome), encoding="utf-8")
    return [metrics, strategy_md]


# --- strategy.md ------------------------------------------------------------------------------------------------------


def strategy_markdown(plan: Mapping[str, Any], generated: str = "", outcome: Outcome | None = None) -> str:
    """`service_layer.strategy.strategy`'s data as markdown: what the game earned (given an `outcome`), day by day,
    what the planner learned, the shelf and the balances now."""
    about = (
        "What the shop's planner decided each game day, on which data, and what it earned; then what it learned of "
        "its market. Read from the records the planner learns from: the ticks since the last reset (at most the "
        "last two weeks)."
    )
    lines = ["# Strategy: Central Coast Cauldrons", "", f"{generated} {about}".strip(), ""]
    if outcome is not None:
        lines += _earned(outcome)
    lines += _days(plan["days"])
    lines += _learned(plan)
    lines += _now(plan)
    return "\n".join(lines)


def _number(value: float | None, places: int = 0) -> str:
    return "—" if value is None else f"{value:,.{places}f}"


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def _counts(counts: Mapping[str, int]) -> str:
    return ", ".join(f"{escape(name)} {n:,}" for name, n in counts.items()) or "—"


def _earned(outcome: Outcome) -> list[str]:
    lines = [
        "## What the game earned",
        "",
        f"`cauldrons simulate` on world {escape(outcome.world)}, {outcome.days} game "
        f"{'day' if outcome.days == 1 else 'days'}, seed {outcome.seed}.",
        "",
        "| | gold |",
        "|---|---:|",
        _row("the shop at the start", f"{outcome.gold_start:,}"),
        _row("the shop at the end", f"{outcome.gold_end:,}"),
    ]
    if outcome.oracle_gold is not None:
        lines += [
            _row("the oracle (the best fixed catalog for the same shoppers)", f"{outcome.oracle_gold:,}"),
            _row("the shop's gold / the oracle's", _number(outcome.ratio, 4)),
        ]
    return [*lines, ""]


def _days(days: list[Mapping[str, Any]]) -> list[str]:
    weeks = max((d["week"] for d in days), default=1)
    lines = [
        "## Day by day",
        "",
        "The price level a tick asked is its shelf's median price; potions shown count the ticks whose visits were "
        "shown them; gold is what the potions sold brought.",
        "",
        "| day | ticks | price asked (min / median / max) | potions shown (ticks) | visitors by class | potions sold "
        "| gold |",
        "|---|---:|---|---|---|---:|---:|",
    ]
    for d in days:
        level = d["price_level"]
        lines.append(
            _row(
                escape(d["day"]) + (f" (week {d['week']})" if weeks > 1 else ""),
                d["ticks"],
                " / ".join(f"{level[k]:g}" for k in ("min", "median", "max")) if level else "—",
                _counts(d["shown"]),
                _counts(d["visitors"]),
                f"{d['potions_sold']:,}",
                f"{d['gold']:,}",
            )
        )
    visitors = sum(n for d in days for n in d["visitors"].values())
    sold, gold = sum(d["potions_sold"] for d in days), sum(d["gold"] for d in days)
    lines += [_row("**all**", sum(d["ticks"] for d in days), "", "", f"{visitors:,}", f"{sold:,}", f"{gold:,}"), ""]
    return lines


def _learned(plan: Mapping[str, Any]) -> list[str]:
    lines = [
        "## What the planner learned",
        "",
        "Per class of visitor: its share of the visitors, its favourite potions (potions a visitor buys when shown "
        "them, shrunk towards what it bought of similar recipes; named once the class bought something), the centre "
        "of its taste (the mean recipe of what it bought) and how far its carts hold a second potion (0 never, 1 "
        "always).",
        "",
        "| class | visitors | share | potions bought | favourites (potions per visitor) | taste (% red / green / "
        "blue / dark) | second lines |",
        "|---|---:|---:|---:|---|---|---:|",
    ]
    for c in plan["classes"]:
        favourites = ", ".join(f"{escape(f['sku'])} ({f['rate']:.2f})" for f in c["favourites"]) or "—"
        taste = " / ".join(f"{pct:.0f}" for pct in c["taste"]) if c["taste"] is not None else "—"
        lines.append(
            _row(
                escape(c["class"]),
                f"{c['visitors']:,}",
                f"{c['share']:.0%}",
                f"{c['bought']:,}",
                favourites,
                taste,
                _number(c["second_lines"], 2),
            )
        )
    price = plan["price_level"]
    lines += [
        "",
        f"The price level: {_number(price, 1)} gold"
        + (" (the base the latest priced tick was tested around)." if price is not None else " (nothing priced yet).")
        + " The ml costs it counts on (the cheapest barrel of each colour usually on offer):",
        "",
        "| colour | gold per ml |",
        "|---|---:|",
        *(_row(colour, f"{plan['ml_cost'][colour]:.4f}") for colour in COLOURS),
        "",
    ]
    return lines


def _now(plan: Mapping[str, Any]) -> list[str]:
    balances = plan["balances"]
    lines = ["## The shelf and the shop now", ""]
    if plan["shelf"]:
        lines += ["| rank | potion | price |", "|---:|---|---:|"]
        lines += [_row(n, escape(p["sku"]), _number(p["price"])) for n, p in enumerate(plan["shelf"], start=1)]
    else:
        lines.append("No shelf chosen yet.")
    ml = ", ".join(f"{colour} {balances['ml'][colour]:,}" for colour in COLOURS)
    lines += [
        "",
        f"Gold {balances['gold']:,}; ml {ml}; potions: {_counts(balances['potions'])}.",
        "",
    ]
    return lines
