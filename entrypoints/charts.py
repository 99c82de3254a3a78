"""The metrics as charts, drawn by matplotlib (its Agg and SVG renderers only: no display, no pyplot state): SVG
for the dashboard, PNG for `cauldrons report`, from the same code.

Every mark that stands for data carries an id (matplotlib's `gid`), so a test can count what was drawn: bars and
points are `mark-<metric>-<n>`, one per bar or point; the lines of the balances are `series-<name>`, one marker
(`<use>`) per point. Each chart draws, for the rows of its metric:

- sales_by_hour: one bar per row (potions of one potion at one game hour), stacked per hour;
- barrel_offers: one point per row (a barrel type at a game hour: gold per ml, coloured by liquid, sized by ml);
- buyers: one point per row (class and species against level; size: potions; colour: the potion);
- conversion: two bars per row (visitors, checkouts);
- balances: one line per series (gold; ml of each colour; potions in all; each capacity), one point per tick;
- profit: one bar per row (a game day's profit).
"""

from __future__ import annotations

import io
import math
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from matplotlib.axes import Axes
from matplotlib.figure import Figure

from domain.metrics import Metric

Rows = list[dict[str, Any]]
LIQUID_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4", "dark": "#3b3b3b", "mixed": "#9467bd"}
PALETTE = ["#d62728", "#2ca02c", "#1f77b4", "#3b3b3b", "#ff7f0e", "#17becf", "#9467bd", "#8c564b", "#e377c2"]
SKU_COLOURS = {"RED_POTION": "#d62728", "GREEN_POTION": "#2ca02c", "BLUE_POTION": "#1f77b4", "DARK_POTION": "#3b3b3b"}
RC: dict[str, Any] = {"svg.fonttype": "none", "path.simplify": False}


def _sku_colour(skus: list[str]) -> dict[str, str]:
    others = iter(c for c in PALETTE if c not in SKU_COLOURS.values())
    return {sku: SKU_COLOURS.get(sku) or next(others, "#7f7f7f") for sku in sorted(set(skus))}


def _ticks(rows: Rows) -> dict[tuple[str, int], int]:
    """The game hours of the rows, in their order (the rows come sorted by day and hour), numbered from 0."""
    order: dict[tuple[str, int], int] = {}
    for row in rows:
        order.setdefault((row["day"], row["hour"]), len(order))
    return order


def _hour_axis(ax: Axes, ticks: dict[tuple[str, int], int]) -> None:
    every = max(1, math.ceil(len(ticks) / 14))
    shown = [(i, f"{day[:3]} {hour:02d}") for (day, hour), i in ticks.items() if i % every == 0]
    ax.set_xticks([i for i, _ in shown], [label for _, label in shown], rotation=45, ha="right", fontsize=8)
    ax.set_xlabel("game day and hour")


def _sales_by_hour(fig: Figure, rows: Rows) -> None:
    ax = fig.subplots()
    ticks, colours = _ticks(rows), _sku_colour([r["sku"] for r in rows])
    bottom: defaultdict[int, int] = defaultdict(int)
    labelled: set[str] = set()
    for n, row in enumerate(rows):
        x = ticks[(row["day"], row["hour"])]
        label = row["sku"] if row["sku"] not in labelled else None
        labelled.add(row["sku"])
        (bar,) = ax.bar([x], [row["potions"]], bottom=[bottom[x]], color=colours[row["sku"]], width=0.8, label=label)
        bar.set_gid(f"mark-sales_by_hour-{n}")
        bottom[x] += row["potions"]
    _hour_axis(ax, ticks)
    ax.set_ylabel("potions sold")
    if rows:
        ax.legend(fontsize=7, ncols=2)


def _barrel_offers(fig: Figure, rows: Rows) -> None:
    ax = fig.subplots()
    ticks = _ticks(rows)
    labelled: set[str] = set()
    for n, row in enumerate(rows):
        label = row["liquid"] if row["liquid"] not in labelled else None
        labelled.add(row["liquid"])
        points = ax.scatter(
            [ticks[(row["day"], row["hour"])]],
            [row["gold_per_ml"]],
            s=8 + 6 * math.log2(max(row["ml_per_barrel"], 1) / 100 + 1) ** 2,
            color=LIQUID_COLOURS.get(row["liquid"], LIQUID_COLOURS["mixed"]),
            alpha=0.75,
            label=label,
        )
        points.set_gid(f"mark-barrel_offers-{n}")
    _hour_axis(ax, ticks)
    ax.set_ylabel("gold per ml (size: ml per barrel)")
    if rows:
        ax.legend(fontsize=7)


def _buyers(fig: Figure, rows: Rows) -> None:
    ax = fig.subplots()
    groups = sorted({f"{r['class']} / {r['species']}" for r in rows})
    y = {g: i for i, g in enumerate(groups)}
    colours = _sku_colour([r["sku"] for r in rows])
    skus = sorted(colours)
    labelled: set[str] = set()
    for n, row in enumerate(rows):
        offset = (skus.index(row["sku"]) - (len(skus) - 1) / 2) * 0.1
        label = row["sku"] if row["sku"] not in labelled else None
        labelled.add(row["sku"])
        points = ax.scatter(
            [row["level"] + offset],
            [y[f"{row['class']} / {row['species']}"]],
            s=6 + 4 * row["potions"],
            color=colours[row["sku"]],
            alpha=0.6,
            label=label,
        )
        points.set_gid(f"mark-buyers-{n}")
    ax.set_yticks(range(len(groups)), groups, fontsize=7)
    ax.set_xlabel("level (size: potions bought)")
    if rows:
        ax.legend(fontsize=7, ncols=2)


def _conversion(fig: Figure, rows: Rows) -> None:
    ax = fig.subplots()
    ticks = _ticks(rows)
    for n, row in enumerate(rows):
        x = ticks[(row["day"], row["hour"])]
        (seen,) = ax.bar([x - 0.2], [row["visitors"]], width=0.4, color="#9ecae1", label="visitors" if n == 0 else None)
        (bought,) = ax.bar(
            [x + 0.2], [row["checkouts"]], width=0.4, color="#08519c", label="checkouts" if n == 0 else None
        )
        seen.set_gid(f"mark-conversion-{2 * n}")
        bought.set_gid(f"mark-conversion-{2 * n + 1}")
    _hour_axis(ax, ticks)
    ax.set_ylabel("customers")
    if rows:
        ax.legend(fontsize=7)


def series(rows: Rows) -> dict[str, list[tuple[int, int]]]:
    """The balances' rows as the lines the chart draws: name -> (tick, value) per tick, in tick order: "gold",
    "ml:<colour>" per colour, "potions" (every potion account summed), "potion_capacity", "ml_capacity"."""
    lines: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        commodity = row["commodity"]
        name = "potions" if commodity.startswith("potion:") else commodity
        lines[name][row["tick"]] += row["balance"]
    return {name: sorted(points.items()) for name, points in lines.items()}


def _balances(fig: Figure, rows: Rows) -> None:
    panels = fig.subplots(4, 1, sharex=True)
    lines = series(rows)
    order = sorted({row["tick"] for row in rows})
    x_of = {tick: i for i, tick in enumerate(order)}
    where = {"gold": 0, "potions": 2, "potion_capacity": 3, "ml_capacity": 3}
    for name, points in sorted(lines.items()):
        ax = panels[where.get(name, 1)]
        colour = LIQUID_COLOURS.get(name.removeprefix("ml:"), "#555555") if name.startswith("ml:") else None
        (line,) = ax.plot(
            [x_of[t] for t, _ in points],
            [v for _, v in points],
            marker="o",
            markersize=1.5,
            linewidth=1,
            color=colour,
            label=name,
        )
        line.set_gid(f"series-{name.replace(':', '-')}")
    for ax, label in zip(panels, ("gold", "ml", "potions", "capacity units")):
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
        if ax.lines and len(ax.lines) > 1:
            ax.legend(fontsize=6, ncols=4)
    days = {(r["tick"]): (r["day"], r["hour"]) for r in rows}
    every = max(1, math.ceil(len(order) / 14))
    shown = [(i, t) for i, t in enumerate(order) if i % every == 0]
    panels[-1].set_xticks(
        [i for i, _ in shown],
        [f"{days[t][0][:3]} {days[t][1]:02d}" for _, t in shown],
        rotation=45,
        ha="right",
        fontsize=7,
    )


def _profit(fig: Figure, rows: Rows) -> None:
    ax = fig.subplots()
    for n, row in enumerate(rows):
        (bar,) = ax.bar([n], [row["profit"]], color="#2ca02c" if row["profit"] >= 0 else "#d62728", width=0.6)
        bar.set_gid(f"mark-profit-{n}")
        ax.plot([n - 0.3, n + 0.3], [row["revenue"]] * 2, color="#555555", linewidth=1)
    ax.axhline(0, color="#999999", linewidth=0.8)
    ax.set_xticks(range(len(rows)), [row["day"] for row in rows], fontsize=8)
    ax.set_ylabel("gold (bar: profit; line: revenue)")


DRAW: dict[Metric, Callable[[Figure, Rows], None]] = {
    Metric.SALES_BY_HOUR: _sales_by_hour,
    Metric.BARREL_OFFERS: _barrel_offers,
    Metric.BUYERS: _buyers,
    Metric.CONVERSION: _conversion,
    Metric.BALANCES: _balances,
    Metric.PROFIT: _profit,
}
SIZES = {Metric.BALANCES: (11.0, 5.5), Metric.BUYERS: (8.0, 4.5)}


def render(metric: Metric, title: str, rows: Rows, file_format: str = "svg") -> bytes:
    """The chart of `metric` over `rows`, as SVG or PNG bytes."""
    import matplotlib

    settings: Any = {**RC, "svg.hashsalt": f"cauldrons-{metric}"}  # the SVGs' ids differ between charts
    with matplotlib.rc_context(settings):
        fig = Figure(figsize=SIZES.get(metric, (8.0, 3.6)), layout="constrained")
        if rows:
            DRAW[metric](fig, rows)
        else:
            fig.text(0.5, 0.5, "no data yet", ha="center", va="center", color="#777777")
        fig.suptitle(title, fontsize=10)
        out = io.BytesIO()
        fig.savefig(out, format=file_format, dpi=100, metadata={"Date": None} if file_format == "svg" else None)
    return out.getvalue()
