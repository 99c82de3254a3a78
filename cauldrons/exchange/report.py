"""What a run shows: a progress bar per day, discrepancies as they are found, then a summary (a rich table or
JSON), with the oracle's best fixed catalog for the same shoppers when it was asked for, and, on request, a plot of
gold, ml and potions over the run."""

from __future__ import annotations

from types import TracebackType
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from cauldrons.exchange.game import Discrepancy, Moment, Point, Result
from cauldrons.exchange.oracle import Verdict
from cauldrons.exchange.world import COLOURS, HOURS

SHOWN_REQUESTS = 12  # of the POSTs since the last check, printed with a discrepancy
PLOT_COLOURS = {"red": "#c0392b", "green": "#27ae60", "blue": "#2e86de", "dark": "#34495e"}


def oracle_summary(verdict: Verdict, gold_end: int) -> dict[str, Any]:
    return {
        "gold": verdict.gold,
        "shop_share": round(gold_end / verdict.gold, 4) if verdict.gold > 0 else None,
        "catalog": [{"potion_type": list(o.recipe), "price": o.price} for o in verdict.catalog],
        "potions": verdict.score.potions,
        "checkouts": verdict.score.checkouts,
        "seconds": round(verdict.seconds, 2),
    }


def summary(result: Result, verdict: Verdict | None = None) -> dict[str, Any]:
    """The run as plain data (the --json output); `oracle` is null when it was not asked for."""
    books, tally, traffic = result.books, result.tally, result.traffic
    return {
        "ok": result.ok,
        "run_id": result.run_id,
        "world": result.settings.world,
        "days": result.settings.days,
        "seed": result.settings.seed,
        "faults": result.settings.faults,
        "seconds": round(result.seconds, 2),
        "gold_start": result.gold_start,
        "gold_end": books.gold,
        "profit": books.gold - result.gold_start,
        "revenue": tally.revenue,
        "potions_sold_by_sku": dict(sorted(tally.potions_sold.items())),
        "revenue_by_class": dict(sorted(tally.revenue_by_class.items())),
        "checkouts_by_class": dict(sorted(tally.sales_by_class.items())),
        "barrels_bought": dict(sorted(tally.barrels_bought.items())),
        "gold_on_barrels": tally.gold_on_barrels,
        "ml_bought": tally.ml_bought,
        "gold_per_ml_bought": round(tally.gold_on_barrels / tally.ml_bought, 4) if tally.ml_bought else None,
        "potions_bottled": tally.potions_bottled,
        "capacity_bought": {"potion": tally.capacity_bought["potion"], "ml": tally.capacity_bought["ml"]},
        "gold_on_capacity": tally.gold_on_capacity,
        "stock_end": {
            "ml": {c: books.ml[c] for c in COLOURS},
            "potions": books.potions_by_sku(),
            "potion_capacity_units": books.potion_capacity,
            "ml_capacity_units": books.ml_capacity,
        },
        "potions_end": sum(books.potions_by_sku().values()),
        "ml_end": sum(books.ml[c] for c in COLOURS),
        "stock_value_at_list_price": sum(n * tally.prices.get(sku, 0) for sku, n in books.potions_by_sku().items()),
        "oracle": oracle_summary(verdict, books.gold) if verdict is not None else None,
        "customers": {"visitors": tally.visitors, "carts": tally.carts, "checkouts": tally.checkouts},
        "order_search": {"lines_sold": sum(tally.lines_sold.values()), "lines_found": tally.lines_found},
        "refusals": dict(sorted(tally.refusals.items())),
        "requests": {
            "sent": traffic.sent,
            "posts": traffic.posts,
            "retried": traffic.retried,
            "replayed": traffic.replayed,
            "replies_lost": traffic.lost,
            "retries_delayed": traffic.delayed,
            "sent_twice": traffic.duplicated,
            "connection_errors": traffic.connection_errors,
        },
        "errors_by_status": {str(s): n for s, n in traffic.errors_by_status.items()},
        "discrepancies": [
            {
                "tick": d.moment.tick,
                "day": d.moment.day,
                "hour": d.moment.hour,
                "what": d.difference.what,
                "books": d.difference.books,
                "shop": d.difference.shop,
                "recent_requests": list(d.recent),
            }
            for d in result.discrepancies
        ],
        "violations": list(result.violations),
    }


def _counts(counts: dict[str, int]) -> str:
    return "\n".join(f"{name}: {n}" for name, n in counts.items()) or "none"


def table(result: Result, verdict: Verdict | None = None) -> Table:
    data = summary(result, verdict)
    grid = Table(
        title=f"cauldrons simulate: world {data['world']}, {data['days']} days, seed {data['seed']}, "
        f"faults {data['faults']}",
        show_header=False,
        show_lines=True,
    )
    grid.add_column(style="bold")
    grid.add_column()
    profit = data["profit"]
    grid.add_row(
        "gold",
        f"start {data['gold_start']}, end {data['gold_end']} ([{'green' if profit >= 0 else 'red'}]{profit:+d}[/])",
    )
    grid.add_row(
        "result",
        f"{profit:+d} gold, holding {sum(data['stock_end']['potions'].values())} potions worth "
        f"{data['stock_value_at_list_price']} at list price and "
        f"{sum(data['stock_end']['ml'].values())} ml; {data['gold_on_capacity']} gold went into "
        f"capacity",
    )
    oracle = data["oracle"]
    if oracle is not None:
        catalog = ", ".join(f"{_recipe(o['potion_type'])} at {o['price']}" for o in oracle["catalog"])
        share = "n/a" if oracle["shop_share"] is None else f"{oracle['shop_share']:.2f}"
        grid.add_row(
            "oracle",
            f"{oracle['gold']} gold with the best fixed catalog for these shoppers (perfect stock, MEDIUM barrel "
            f"liquid): {catalog or 'nothing'}; the shop's gold / the oracle's: [bold]{share}[/] "
            f"({oracle['seconds']} s to find)",
        )
    grid.add_row(
        "revenue",
        f"{data['revenue']} gold from {data['customers']['checkouts']} checkouts "
        f"({data['customers']['visitors']} visitors, {data['customers']['carts']} carts)",
    )
    per_ml = data["gold_per_ml_bought"]
    grid.add_row(
        "spent",
        f"{data['gold_on_barrels']} gold on barrels ({data['ml_bought']} ml, "
        f"{'n/a' if per_ml is None else f'{per_ml:.3f}'} gold/ml), {data['gold_on_capacity']} on capacity "
        f"({data['capacity_bought']['potion']} potion + {data['capacity_bought']['ml']} ml units)",
    )
    search = data["order_search"]
    grid.add_row("order search", f"found {search['lines_found']} of the {search['lines_sold']} lines sold")
    grid.add_row("potions sold by SKU", _counts(data["potions_sold_by_sku"]))
    grid.add_row("revenue by class", _counts(data["revenue_by_class"]))
    grid.add_row("barrels bought", _counts(data["barrels_bought"]))
    stock = data["stock_end"]
    grid.add_row(
        "stock at the end",
        f"{sum(stock['potions'].values())} potions ({_inline(stock['potions'])}); "
        f"{sum(stock['ml'].values())} ml ({_inline(stock['ml'])}); capacity "
        f"{stock['potion_capacity_units']} potion + {stock['ml_capacity_units']} ml units",
    )
    requests = data["requests"]
    grid.add_row(
        "requests",
        f"{requests['sent']} sent, {requests['retried']} retried, {requests['replayed']} "
        f"replayed; {requests['replies_lost']} replies lost, {requests['retries_delayed']} "
        f"retries delayed, {requests['sent_twice']} sent twice at once"
        + (f", {requests['connection_errors']} connection errors" if requests["connection_errors"] else ""),
    )
    grid.add_row("refusals", _counts(data["refusals"]))
    grid.add_row("errors by status", _counts(data["errors_by_status"]))
    found = len(data["discrepancies"])
    grid.add_row("discrepancies", f"[{'red' if found else 'green'}]{found}[/]")
    if data["violations"]:
        shown = data["violations"][:20] + (
            [f"... and {len(data['violations']) - 20} more"] if len(data["violations"]) > 20 else []
        )
        grid.add_row("contract violations", "[red]" + escape("\n".join(shown)) + "[/]")
    grid.add_row("time", f"{data['seconds']} s")
    return grid


def _recipe(recipe: list[int]) -> str:
    return "/".join(f"{pct}{colour[0]}" for colour, pct in zip(COLOURS, recipe) if pct)


def _inline(counts: dict[str, int]) -> str:
    return ", ".join(f"{name} {n}" for name, n in counts.items() if n) or "none"


def plot(result: Result, path: str) -> None:
    """Gold, ml by colour and potions on hand after every tick, to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    points = result.points
    ticks = [p.tick for p in points]
    figure, (gold, ml, potions) = plt.subplots(3, 1, sharex=True, figsize=(10, 8))
    gold.plot(ticks, [p.gold for p in points], color="#b7950b")
    gold.set_ylabel("gold")
    ml.stackplot(
        ticks,
        *[[p.ml[c] for p in points] for c in COLOURS],
        labels=COLOURS,
        colors=[PLOT_COLOURS[c] for c in COLOURS],
        alpha=0.8,
    )
    ml.set_ylabel("ml in barrels")
    ml.legend(loc="upper left", fontsize="small")
    potions.plot(ticks, [p.potions for p in points], color="#8e44ad")
    potions.set_ylabel("potions")
    potions.set_xlabel("tick")
    first_ticks = [p for p in points if p.tick % len(HOURS) == 1]
    for axis in (gold, ml, potions):
        axis.grid(alpha=0.3)
        for p in first_ticks:
            axis.axvline(p.tick - 0.5, color="grey", linewidth=0.5)
    for p in first_ticks:
        gold.text(p.tick, 1.02, p.day, transform=gold.get_xaxis_transform(), fontsize="small")
    figure.suptitle(
        f"cauldrons simulate: world {result.settings.world}, seed {result.settings.seed}, "
        f"faults {result.settings.faults}, "
        f"{len(result.discrepancies)} discrepancies"
    )
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    plt.close(figure)


class ProgressReport:
    """The game's observer on a terminal: a progress bar per day; discrepancies and violations printed as found."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.progress = Progress(
            TextColumn("{task.description:<10}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[status]}"),
            TimeElapsedColumn(),
            console=console,
        )
        self.task: TaskID | None = None
        self.shown_requests_of: Moment | None = None

    def __enter__(self) -> ProgressReport:
        self.progress.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.progress.stop()

    def day_started(self, day: str, ticks: int) -> None:
        self.task = self.progress.add_task(day, total=ticks, status="")

    def tick_done(self, point: Point) -> None:
        if self.task is not None:
            self.progress.update(
                self.task,
                advance=1,
                status=f"gold {point.gold:>6}  ml {sum(point.ml.values()):>6}  potions {point.potions:>4}",
            )

    def discrepancy(self, found: Discrepancy) -> None:
        self.console.print(f"[red]discrepancy[/] at {found.moment}: {escape(str(found.difference))}")
        if found.moment == self.shown_requests_of:
            return
        self.shown_requests_of = found.moment
        shown = found.recent[-SHOWN_REQUESTS:]
        self.console.print(
            f"  the last {len(shown)} of {len(found.recent)} POSTs since the last check:", highlight=False
        )
        for line in shown:
            self.console.print(f"    {line}", markup=False, highlight=False)

    def violation(self, moment: Moment, message: str) -> None:
        self.console.print(f"[red]contract violation[/] at {moment}: {escape(message)}", highlight=False)
