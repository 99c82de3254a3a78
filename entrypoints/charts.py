"""The metrics as PNG charts for `cauldrons report`, drawn by matplotlib (its Agg renderer only: no display, no
pyplot state). The shop's live dashboard draws the same charts in the browser (`entrypoints/dashboard/dashboard.js`,
from `GET /metrics/<metric>`): the shop never draws while it serves, and matplotlib is imported only here, when a
chart is drawn, never by the app.

Each chart's size is bounded whatever the history holds, as the dashboard's are: its metric's rows are first shaped
(`shape`) into at most `MAX_SLOTS` places along the x axis (consecutive game hours or days summed beyond that), at
most `MAX_SERIES` potions or liquids named (the others summed as "others") and at most `MAX_GROUPS` groups of
buyers; then each series is one artist, never one per row. Each chart draws:

- sales_by_hour: potions sold per game hour, a stacked bar per hour, one colour per potion;
- barrel_offers: the cheapest gold per ml offered per game hour, a point per liquid;
- buyers: potions bought per class / species, a stacked bar per group, one colour per potion;
- conversion: visitors and checkouts per game hour, two bars side by side;
- balances: gold, ml per colour, potions (all summed) and capacity at the end of each tick, four panels of lines;
- profit: a bar per game day (green a profit, red a loss) and a line of the revenue.

Text the exchange sent (game days, classes, species, skus) is data, never markup: matplotlib's mathtext and TeX are
off (`RC`), so `$^$` is drawn as it is; control characters are drawn as spaces and a label is cut to `MAX_LABEL`
characters (the report's tables hold the whole text).
"""

from __future__ import annotations

import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from domain.metrics import Metric

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

Rows = list[dict[str, Any]]
MAX_SLOTS = 96
MAX_SERIES = 8
MAX_GROUPS = 16
MAX_LABEL = 24
MAX_TICKS = 16  # x labels written at most (every k-th slot)
OTHERS = "\x00others"  # no text the shop stores holds a NUL, so no name the exchange sent can be this one
LIQUID_COLOURS = {"red": "#d62728", "green": "#2ca02c", "blue": "#1f77b4", "dark": "#3b3b3b", "mixed": "#9467bd"}
SKU_COLOURS = {"RED_POTION": "#d62728", "GREEN_POTION": "#2ca02c", "BLUE_POTION": "#1f77b4", "DARK_POTION": "#3b3b3b"}
PALETTE = ["#ff7f0e", "#17becf", "#9467bd", "#8c564b", "#e377c2", "#bcbd22", "#7f7f7f", "#aec7e8"]
OTHERS_COLOUR = "#c7c7c7"
RC: dict[str, Any] = {"text.parse_math": False, "text.usetex": False, "axes.formatter.use_mathtext": False}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


@dataclass(frozen=True)
class Series:
    label: str
    colour: str
    values: list[float | None]


@dataclass(frozen=True)
class Panel:
    y_label: str
    series: list[Series]


@dataclass(frozen=True)
class Shape:
    """A chart's bounded data: a label per x slot, and the panels (one but for the balances) of series over them."""

    x: list[str]
    x_label: str
    kind: str  # "stack", "points", "pairs" (two bars a slot), "lines", "profit"
    panels: list[Panel]
    notes: dict[str, list[str]] = field(default_factory=dict)  # a column more per slot (the buyers' levels)

    @property
    def marks(self) -> int:
        """Bars and points drawn (a stacked series draws none where it is 0)."""
        return sum(
            1 for p in self.panels for s in p.series for v in s.values if v is not None and (v or self.kind != "stack")
        )


def short(text: str) -> str:
    """`text` as a chart shows it: control characters as spaces, at most MAX_LABEL characters."""
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= MAX_LABEL else text[: MAX_LABEL - 1] + "…"


def _game_hour(row: dict[str, Any]) -> str:
    return f"{row['day']} {row['hour']:02d}"


def slots(
    keys: Iterable[Hashable], labels: Iterable[str], limit: int = MAX_SLOTS
) -> tuple[dict[Hashable, int], list[str]]:
    """The distinct keys in their order, in at most `limit` slots of consecutive keys: key -> slot, and a label per
    slot ("first" or "first – last")."""
    named: dict[Hashable, str] = {}
    for key, label in zip(keys, labels, strict=True):
        named.setdefault(key, label)
    order = list(named)
    per = max(1, math.ceil(len(order) / limit))
    slot = {key: i // per for i, key in enumerate(order)}
    out = []
    for first in range(0, len(order), per):
        last = min(len(order), first + per) - 1
        a, b = named[order[first]], named[order[last]]
        out.append(a if first == last else f"{a} – {b}")
    return slot, out


def largest(totals: dict[str, float], limit: int) -> list[str]:
    """The `limit` names of the largest totals (ties by name), then OTHERS if any was left out."""
    names = sorted(totals, key=lambda name: (-totals[name], name))
    return names[:limit] + ([OTHERS] if len(names) > limit else [])


def _totals(
    rows: Rows, key: Callable[[dict[str, Any]], str], value: Callable[[dict[str, Any]], float]
) -> dict[str, float]:
    totals: defaultdict[str, float] = defaultdict(float)
    for row in rows:
        totals[key(row)] += value(row)
    return dict(totals)


def _colours(names: list[str], known: dict[str, str]) -> list[str]:
    spare = [c for c in PALETTE if c not in known.values()]
    out, n = [], 0
    for name in names:
        if name == OTHERS:
            out.append(OTHERS_COLOUR)
        elif name in known:
            out.append(known[name])
        else:
            out.append(spare[n % len(spare)])
            n += 1
    return out


def _stacked(rows: Rows, names: list[str], others: str, x_of: Callable[[dict[str, Any]], int], n: int) -> list[Series]:
    """A series per name (a row's sku; the rest summed in OTHERS) of the potions in each slot."""
    index = {name: i for i, name in enumerate(names)}
    values: list[list[float | None]] = [[0] * n for _ in names]
    for row in rows:
        i = index.get(row["sku"], index.get(OTHERS, 0))
        values[i][x_of(row)] = (values[i][x_of(row)] or 0) + row["potions"]
    colours = _colours(names, SKU_COLOURS)
    return [Series(others if name == OTHERS else name, colours[i], values[i]) for i, name in enumerate(names)]


def _sales_by_hour(rows: Rows) -> Shape:
    slot, labels = slots(((r["day"], r["hour"]) for r in rows), (_game_hour(r) for r in rows))
    names = largest(_totals(rows, lambda r: r["sku"], lambda r: r["potions"]), MAX_SERIES)
    series = _stacked(rows, names, "other potions", lambda r: slot[(r["day"], r["hour"])], len(labels))
    return Shape(labels, "game day and hour", "stack", [Panel("potions sold", series)])


def _barrel_offers(rows: Rows) -> Shape:
    slot, labels = slots(((r["day"], r["hour"]) for r in rows), (_game_hour(r) for r in rows))
    names = largest(_totals(rows, lambda r: r["liquid"], lambda r: 1), MAX_SERIES)
    index = {name: i for i, name in enumerate(names)}
    values: list[list[float | None]] = [[None] * len(labels) for _ in names]
    for row in rows:
        i, at = index.get(row["liquid"], index.get(OTHERS, 0)), slot[(row["day"], row["hour"])]
        now = values[i][at]
        values[i][at] = row["gold_per_ml"] if now is None else min(now, row["gold_per_ml"])
    colours = _colours(names, LIQUID_COLOURS)
    series = [Series("other liquids" if n == OTHERS else n, colours[i], values[i]) for i, n in enumerate(names)]
    return Shape(labels, "game day and hour", "points", [Panel("cheapest gold per ml", series)])


def _buyers(rows: Rows) -> Shape:
    def group(row: dict[str, Any]) -> str:
        return f"{row['class']} / {row['species']}"

    groups = largest(_totals(rows, group, lambda r: r["potions"]), MAX_GROUPS)
    at = {g: i for i, g in enumerate(groups)}

    def x_of(row: dict[str, Any]) -> int:
        return at.get(group(row), at.get(OTHERS, 0))

    names = largest(_totals(rows, lambda r: r["sku"], lambda r: r["potions"]), MAX_SERIES)
    series = _stacked(rows, names, "other potions", x_of, len(groups))
    levels: dict[int, list[int]] = defaultdict(list)
    for row in rows:
        levels[x_of(row)].append(row["level"])
    spans = [
        f"{min(levels[i])}" if min(levels[i]) == max(levels[i]) else f"{min(levels[i])}–{max(levels[i])}"
        for i in range(len(groups))
    ]
    labels = ["other buyers" if g == OTHERS else g for g in groups]
    return Shape(labels, "class / species", "stack", [Panel("potions bought", series)], {"levels": spans})


def _conversion(rows: Rows) -> Shape:
    slot, labels = slots(((r["day"], r["hour"]) for r in rows), (_game_hour(r) for r in rows))
    seen: list[float | None] = [0] * len(labels)
    bought: list[float | None] = [0] * len(labels)
    for row in rows:
        at = slot[(row["day"], row["hour"])]
        seen[at] = (seen[at] or 0) + row["visitors"]
        bought[at] = (bought[at] or 0) + row["checkouts"]
    series = [Series("visitors", "#9ecae1", seen), Series("checkouts", "#08519c", bought)]
    return Shape(labels, "game day and hour", "pairs", [Panel("customers", series)])


def series(rows: Rows) -> dict[str, list[tuple[int, int]]]:
    """The balances' rows as the lines the chart draws: name -> (tick, value) per tick, in tick order: "gold",
    "ml:<colour>" per colour, "potions" (every potion account summed), "potion_capacity", "ml_capacity"."""
    lines: defaultdict[str, defaultdict[int, int]] = defaultdict(lambda: defaultdict(int))
    for row in rows:
        commodity = row["commodity"]
        name = "potions" if commodity.startswith("potion:") else commodity
        lines[name][row["tick"]] += row["balance"]
    return {name: sorted(points.items()) for name, points in lines.items()}


def _balances(rows: Rows) -> Shape:
    slot, labels = slots((r["tick"] for r in rows), (_game_hour(r) for r in rows), limit=1000)
    lines = series(rows)
    panels = []
    for y_label, belongs in (
        ("gold", lambda name: name == "gold"),
        ("ml", lambda name: name.startswith("ml:")),
        ("potions", lambda name: name == "potions"),
        ("capacity units", lambda name: name in ("potion_capacity", "ml_capacity")),
    ):
        mine = sorted(name for name in lines if belongs(name))
        drawn = []
        for i, name in enumerate(mine):
            values: list[float | None] = [None] * len(labels)
            for tick, value in lines[name]:
                values[slot[tick]] = (values[slot[tick]] or 0) + value
            drawn.append(Series(name, LIQUID_COLOURS.get(name.removeprefix("ml:"), PALETTE[i % len(PALETTE)]), values))
        panels.append(Panel(y_label, drawn))
    return Shape(labels, "game day and hour", "lines", panels)


def _profit(rows: Rows) -> Shape:
    slot, labels = slots((r["day"] for r in rows), (r["day"] for r in rows))
    profit: list[float | None] = [0] * len(labels)
    revenue: list[float | None] = [0] * len(labels)
    for row in rows:
        profit[slot[row["day"]]] = (profit[slot[row["day"]]] or 0) + row["profit"]
        revenue[slot[row["day"]]] = (revenue[slot[row["day"]]] or 0) + row["revenue"]
    series = [Series("profit", "#2ca02c", profit), Series("revenue", "#555555", revenue)]
    return Shape(labels, "game day", "profit", [Panel("gold (bar: profit; line: revenue)", series)])


SHAPES: dict[Metric, Callable[[Rows], Shape]] = {
    Metric.SALES_BY_HOUR: _sales_by_hour,
    Metric.BARREL_OFFERS: _barrel_offers,
    Metric.BUYERS: _buyers,
    Metric.CONVERSION: _conversion,
    Metric.BALANCES: _balances,
    Metric.PROFIT: _profit,
}


def shape(metric: Metric, rows: Rows) -> Shape:
    """`metric`'s rows as the bounded chart that draws them."""
    return SHAPES[metric](rows)


# --- drawing -------------------------------------------------------------------------------------------------------


def _legend_label(text: str) -> str:
    return " " + short(text) if text.startswith("_") else short(text)  # matplotlib leaves out labels starting "_"


def _x_axis(ax: Axes, chart: Shape, labelled: bool) -> None:
    every = max(1, math.ceil(len(chart.x) / MAX_TICKS))
    shown = [(i, short(label)) for i, label in enumerate(chart.x) if i % every == 0]
    ax.set_xlim(-0.5, len(chart.x) - 0.5)
    if labelled:
        ax.set_xticks([i for i, _ in shown], [label for _, label in shown], rotation=40, ha="right", fontsize=7)
        ax.set_xlabel(chart.x_label)
    else:
        ax.set_xticks([i for i, _ in shown], [""] * len(shown))


def _nan(values: list[float | None]) -> list[float]:
    return [math.nan if v is None else v for v in values]


def _draw(ax: Axes, chart: Shape, panel: Panel) -> None:
    xs = list(range(len(chart.x)))
    if chart.kind == "stack":
        bottom = [0.0] * len(xs)
        for s in panel.series:
            heights = [v or 0 for v in s.values]
            ax.bar(xs, heights, bottom=bottom, width=0.75, color=s.colour, label=_legend_label(s.label))
            bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    elif chart.kind == "pairs":
        for offset, s in zip((-0.2, 0.2), panel.series, strict=True):
            ax.bar([x + offset for x in xs], _nan(s.values), width=0.4, color=s.colour, label=s.label)
    elif chart.kind == "profit":
        profit, revenue = panel.series
        colours = ["#2ca02c" if (v or 0) >= 0 else "#d62728" for v in profit.values]
        ax.bar(xs, _nan(profit.values), width=0.6, color=colours, label="profit (red: a loss)")
        ax.plot(xs, _nan(revenue.values), color=revenue.colour, marker="_", markersize=12, linewidth=1, label="revenue")
        ax.axhline(0, color="#999999", linewidth=0.8)
    else:
        line = chart.kind == "lines"
        for s in panel.series:
            ax.plot(
                xs,
                _nan(s.values),
                color=s.colour,
                marker="o",
                markersize=2 if line else 4,
                linestyle="-" if line else "none",
                linewidth=1,
                label=_legend_label(s.label),
            )
    ax.set_ylabel(panel.y_label, fontsize=8)
    ax.tick_params(axis="y", labelsize=7)
    if panel.series and (len(panel.series) > 1 or chart.kind != "lines"):
        ax.legend(fontsize=6, ncols=min(4, len(panel.series) + 1))


SIZES = {Metric.BALANCES: (11.0, 6.0), Metric.BUYERS: (8.0, 4.5)}


def render(metric: Metric, title: str, rows: Rows) -> bytes:
    """The chart of `metric` over `rows`, as PNG bytes."""
    import matplotlib
    from matplotlib.figure import Figure

    settings: Any = RC
    with matplotlib.rc_context(settings):
        fig: Figure = Figure(figsize=SIZES.get(metric, (8.0, 3.8)), layout="constrained")
        if rows:
            chart = shape(metric, rows)
            axes = fig.subplots(len(chart.panels), 1, sharex=True, squeeze=False)[:, 0]
            for n, (ax, panel) in enumerate(zip(axes, chart.panels, strict=True)):
                _draw(ax, chart, panel)
                _x_axis(ax, chart, labelled=n == len(chart.panels) - 1)
        else:
            fig.text(0.5, 0.5, "no data yet", ha="center", va="center", color="#777777")
        fig.suptitle(title, fontsize=10)
        out = io.BytesIO()
        fig.savefig(out, format="png", dpi=100)
    return out.getvalue()
