"""The charts' size is bounded whatever the history holds: the rows of a metric are shaped into at most MAX_SLOTS
places along the x axis, MAX_SERIES named series (the rest summed as "others") and MAX_GROUPS buyer groups, every
total kept (`entrypoints/charts.py`, which `cauldrons report` draws; the dashboard's script shapes them alike). And
the shop never draws: the app does not even import matplotlib."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

from domain.metrics import TITLES, Metric
from entrypoints.charts import MAX_GROUPS, MAX_SERIES, MAX_SLOTS, Shape, render, shape

PNG = b"\x89PNG\r\n\x1a\n"


def total(chart: Shape) -> float:
    return sum(v or 0 for panel in chart.panels for s in panel.series for v in s.values)


def labels(chart: Shape) -> list[str]:
    return [s.label for panel in chart.panels for s in panel.series]


def many_hours(n_days: int, skus: int) -> list[dict[str, Any]]:
    return [
        {"day": f"day {d}", "hour": h, "sku": f"SKU_{k}", "potions": 1 + k % 3, "gold": 50}
        for d in range(n_days)
        for h in (0, 12)
        for k in range(skus)
    ]


def test_sales_over_hundreds_of_game_days_and_dozens_of_potions_are_bounded():
    rows = many_hours(300, 20)  # 600 game hours, 20 potions: 12,000 rows
    chart = shape(Metric.SALES_BY_HOUR, rows)
    assert len(chart.x) <= MAX_SLOTS and len(labels(chart)) == MAX_SERIES + 1
    assert labels(chart)[-1] == "other potions"
    assert total(chart) == sum(r["potions"] for r in rows)
    assert chart.x[0] == "day 0 00 – day 3 00"  # 7 game hours a slot (600 / 96, up): its first and last
    assert chart.marks <= MAX_SLOTS * (MAX_SERIES + 1)
    assert render(Metric.SALES_BY_HOUR, TITLES[Metric.SALES_BY_HOUR], rows).startswith(PNG)


def test_buyers_of_hundreds_of_classes_are_bounded_and_keep_their_levels():
    rows = [
        {
            "class": f"class {c}",
            "species": s,
            "level": 1 + c % 20,
            "sku": f"SKU_{k}",
            "checkouts": 1,
            "potions": 2,
            "gold": 100,
        }
        for c in range(200)
        for s in ("Elf", "Orc")
        for k in range(12)
    ]
    chart = shape(Metric.BUYERS, rows)
    assert len(chart.x) == MAX_GROUPS + 1 and chart.x[-1] == "other buyers"
    assert len(labels(chart)) == MAX_SERIES + 1
    assert total(chart) == sum(r["potions"] for r in rows)
    assert chart.notes["levels"][-1] == "1–20"
    assert render(Metric.BUYERS, TITLES[Metric.BUYERS], rows).startswith(PNG)


def test_offers_conversion_and_profit_over_many_days_are_bounded():
    offers = [
        {
            "day": f"day {d}",
            "hour": h,
            "sku": f"{liquid}_{ml}",
            "liquid": liquid,
            "ml_per_barrel": ml,
            "offers": 1,
            "min_price": ml // 10,
            "max_price": ml // 10,
            "barrels": 3,
            "gold_per_ml": 0.1 + d / 1000,
        }
        for d in range(400)
        for h in (0, 6, 12, 18)
        for liquid in ("red", "green", "blue", "dark", "mixed")
        for ml in (500, 2500)
    ]
    chart = shape(Metric.BARREL_OFFERS, offers)
    assert len(chart.x) <= MAX_SLOTS and sorted(labels(chart)) == ["blue", "dark", "green", "mixed", "red"]
    assert min(v for s in chart.panels[0].series for v in s.values if v is not None) == 0.1
    conversion = [
        {"day": f"day {d}", "hour": h, "visitors": 3, "checkouts": 1, "potions": 1, "gold": 50}
        for d in range(1000)
        for h in range(0, 24, 2)
    ]
    chart = shape(Metric.CONVERSION, conversion)
    assert len(chart.x) <= MAX_SLOTS and total(chart) == 4 * len(conversion)
    profit = [{"day": f"day {d}", "revenue": 10, "barrels": 5, "capacity": 0, "profit": 5} for d in range(5000)]
    chart = shape(Metric.PROFIT, profit)
    assert len(chart.x) <= MAX_SLOTS and total(chart) == 15 * len(profit)
    for metric, rows in ((Metric.BARREL_OFFERS, offers), (Metric.CONVERSION, conversion), (Metric.PROFIT, profit)):
        assert render(metric, TITLES[metric], rows).startswith(PNG)


def test_the_app_never_imports_matplotlib(sqlite_url: str):
    """Serving a metric (and the dashboard) must not draw, nor even load the library that would."""
    script = (
        "import sys\n"
        "from cauldrons.app import create_app\n"
        "from cauldrons.config import Config\n"
        f"client = create_app(Config({sqlite_url!r}, 'k')).test_client()\n"
        "for path in ('/dashboard', '/metrics/buyers', '/metrics/balances'):\n"
        "    assert client.get(path, headers={'access_token': 'k'}).status_code == 200, path\n"
        "assert 'matplotlib' not in sys.modules, 'matplotlib was imported'\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
