"""Time of `POST /bottler/plan`'s planner (`domain.planners.plan_bottling`) as capacity grows: it should not depend on
the quantities planned (target: under 10 ms for any capacity).

The shop holds ml of every colour for every potion it could bottle into its free space, and its visitors buy each of
the six potions on the shelf faster than the space fills, so the plan fills all of it.

    python bench/bottler_plan.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from domain import ledger, planners  # noqa: E402
from domain.inventory import Inventory  # noqa: E402
from domain.ledger import SHOP, AccountRef  # noqa: E402
from domain.market import Forecast, History, Sold, Tick  # noqa: E402
from domain.potions import COLOURS, DEFAULT_POTIONS  # noqa: E402

SHELF = DEFAULT_POTIONS[:6]

CAPACITY_UNITS = (1, 10, 100, 1_200, 20_000)  # 50 to 1,000,000 potions


def stocked(potion_units: int) -> Inventory:
    potions = potion_units * ledger.POTIONS_PER_CAPACITY_UNIT
    balances = {
        AccountRef(SHOP, ledger.POTION_CAPACITY): potion_units,
        AccountRef(SHOP, ledger.ML_CAPACITY): potions // 10 + 1,
    }
    balances.update({AccountRef(SHOP, ledger.ML[c]): 100 * potions for c in COLOURS})
    return Inventory.from_balances(balances)


def busy(potions: int) -> Forecast:
    """A tick in which as many visitors as there is space each bought one of every potion on the shelf."""
    shown = {p.sku: (50, 1) for p in SHELF}
    sold = {("Bard", p.sku): Sold(potions, 50 * potions) for p in SHELF}
    return Forecast.of(
        History((Tick("Edgeday", 0, {"Bard": potions}, shown, sold, {"Bard": (potions, 6 * potions)}),)), SHELF
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    worst = 0.0
    print(f"plan_bottling, median of {args.repeats}")
    for units in CAPACITY_UNITS:
        inventory = stocked(units)
        forecast = busy(inventory.potion_limit)
        seconds = []
        for _ in range(args.repeats):
            started = time.perf_counter()
            plan = planners.plan_bottling(forecast, inventory, SHELF)
            seconds.append(time.perf_counter() - started)
        median = statistics.median(seconds)
        worst = max(worst, median)
        print(
            f"  space for {inventory.potion_limit:>9,} potions: {median * 1000:9.3f} ms, "
            f"plans {sum(k for _, k in plan):>7,} potions in {len(plan)} mixes"
        )
    verdict = "met" if worst < 0.010 else "NOT MET"
    print(f"target: under 10 ms for any capacity -> worst {worst * 1000:.3f} ms: {verdict}")
    sys.exit(0 if worst < 0.010 else 1)


if __name__ == "__main__":
    main()
