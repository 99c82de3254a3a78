"""The shop's week on each world, against the oracle: seeds x worlds of `cauldrons simulate` games, each on a fresh
embedded shop (SQLite, served over HTTP in its process), each with the oracle's best fixed catalog for the same
shoppers; then a pass with faults. Prints per world and seed set the figures the shop is judged by, next to their
targets; asserts nothing.

    python bench/play.py [--worlds classic,2026] [--seeds 1-10,101-110] [--days 7] [--jobs 2]
                         [--faults 0.3] [--fault-seeds 1-10] [--no-oracle]
    python -m bench.play --seeds 1-2 --days 2 --fault-seeds 1   # a small run
"""

from __future__ import annotations

import argparse
import logging
import secrets
import statistics
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cauldrons.exchange import report, worlds  # noqa: E402
from cauldrons.exchange.embedded import embedded_shop  # noqa: E402
from cauldrons.exchange.game import Settings, play  # noqa: E402
from cauldrons.exchange.run import judge  # noqa: E402
from cauldrons.exchange.transport import HttpTransport  # noqa: E402

Game = dict[str, Any]  # report.summary of one game, oracle included

# What the shop is judged by.
CLASSIC_MEDIAN_GOLD = 15_000
CLASSIC_LEAST_GOLD = 10_000
SHARE_MEDIAN = 0.70  # 2026: the shop's final gold / the oracle's
SHARE_LEAST = 0.50
GOLD_PER_ML = 0.12  # barrels, on average
POTIONS_LEFT = 40
ML_LEFT = 3_000
FAULT_DRIFT = 0.10  # a seed's gold with faults within 10 % of the same seed without


def seeds_of(text: str) -> list[int]:
    """ "1-10,101-110" -> [1..10, 101..110]."""
    seeds: list[int] = []
    for part in filter(None, text.split(",")):
        low, _, high = part.partition("-")
        seeds += range(int(low), int(high or low) + 1)
    return seeds


def one_game(world: str, seed: int, days: int, faults: float, with_oracle: bool) -> Game:
    """One game on a fresh embedded shop, summarised (in a worker process)."""
    for noisy in ("alembic", "matplotlib", "cauldrons", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    api_key = secrets.token_urlsafe(24)
    with embedded_shop(api_key) as url:
        result = play(HttpTransport(url, api_key), Settings(days=days, seed=seed, faults=faults, world=world))
    verdict = judge(result) if with_oracle else None
    return report.summary(result, verdict)


def _median(values: Sequence[float]) -> float:
    return statistics.median(values) if values else float("nan")


def _verdict(met: bool) -> str:
    return "met" if met else "NOT MET"


def _gold_per_ml(games: Sequence[Game]) -> float | None:
    ml = sum(g["ml_bought"] for g in games)
    return sum(g["gold_on_barrels"] for g in games) / ml if ml else None


def print_games(games: Sequence[Game]) -> None:
    print(
        f"  {'seed':>5} {'gold':>7} {'oracle':>7} {'share':>6} {'barrels':>7} {'ml':>7} {'g/ml':>6} "
        f"{'potions':>7} {'ml':>6} {'capacity':>8} {'disc':>4} {'viol':>4} {'oracle s':>8} {'game s':>6}"
    )
    print(f"  {'':>5} {'end':>7} {'':>7} {'':>6} {'gold':>7} {'bought':>7} {'':>6} {'left':>7} {'left':>6}")
    for g in games:
        oracle = g["oracle"] or {}
        share = oracle.get("shop_share")
        per_ml = g["gold_per_ml_bought"]
        print(
            f"  {g['seed']:>5} {g['gold_end']:>7} {oracle.get('gold', '-'):>7} "
            f"{'-' if share is None else f'{share:.2f}':>6} {g['gold_on_barrels']:>7} {g['ml_bought']:>7} "
            f"{'-' if per_ml is None else f'{per_ml:.3f}':>6} {g['potions_end']:>7} {g['ml_end']:>6} "
            f"{g['gold_on_capacity']:>8} {len(g['discrepancies']):>4} {len(g['violations']):>4} "
            f"{oracle.get('seconds', '-'):>8} {g['seconds']:>6}"
        )


def print_figures(world: str, label: str, games: Sequence[Game]) -> None:
    gold = [g["gold_end"] for g in games]
    shares = [g["oracle"]["shop_share"] for g in games if g["oracle"] and g["oracle"]["shop_share"] is not None]
    oracle_gold = [g["oracle"]["gold"] for g in games if g["oracle"]]
    potions = [g["potions_end"] for g in games]
    ml = [g["ml_end"] for g in games]
    capacity = [g["gold_on_capacity"] for g in games]
    per_ml = _gold_per_ml(games)
    discrepancies = sum(len(g["discrepancies"]) for g in games)
    violations = sum(len(g["violations"]) for g in games)
    print(f"\n{world}, seeds {label}, {games[0]['days']} days: {len(games)} games")
    print_games(games)
    if world == "classic":
        target = f"median >= {CLASSIC_MEDIAN_GOLD:,}, every seed >= {CLASSIC_LEAST_GOLD:,}"
        met = _median(gold) >= CLASSIC_MEDIAN_GOLD and min(gold) >= CLASSIC_LEAST_GOLD
        print(
            f"  final gold         median {_median(gold):,.0f}, range {min(gold):,}-{max(gold):,}  "
            f"[target {target}: {_verdict(met)}]"
        )
    else:
        print(f"  final gold         median {_median(gold):,.0f}, range {min(gold):,}-{max(gold):,}")
    if shares:
        line = f"  shop / oracle      median {_median(shares):.2f}, min {min(shares):.2f}"
        line += f" (oracle median {_median(oracle_gold):,.0f}, range {min(oracle_gold):,}-{max(oracle_gold):,})"
        if world == "2026":
            met = _median(shares) >= SHARE_MEDIAN and min(shares) >= SHARE_LEAST
            line += f"  [target median >= {SHARE_MEDIAN}, every seed >= {SHARE_LEAST}: {_verdict(met)}]"
        print(line)
        seconds = [g["oracle"]["seconds"] for g in games if g["oracle"]]
        print(f"  oracle time        median {_median(seconds):.1f} s, max {max(seconds):.1f} s a seed")
    if per_ml is None:
        print("  barrels            none bought")
    else:
        print(
            f"  barrels            {per_ml:.3f} gold/ml over all seeds' barrels  "
            f"[target <= {GOLD_PER_ML}: {_verdict(per_ml <= GOLD_PER_ML)}]"
        )
    met = max(potions) <= POTIONS_LEFT and max(ml) <= ML_LEFT
    print(
        f"  left at the end    potions median {_median(potions):.0f}, max {max(potions)}; ml median "
        f"{_median(ml):,.0f}, max {max(ml):,}  [target <= {POTIONS_LEFT} potions and <= {ML_LEFT:,} ml: "
        f"{_verdict(met)}]"
    )
    print(f"  capacity gold      median {_median(capacity):,.0f}, max {max(capacity):,}")
    print(
        f"  discrepancies      {discrepancies}; contract violations {violations}  "
        f"[target 0 and 0: {_verdict(discrepancies == 0 and violations == 0)}]"
    )


def print_faults(world: str, rate: float, stormy: Sequence[Game], calm: dict[int, Game]) -> None:
    discrepancies = sum(len(g["discrepancies"]) for g in stormy)
    violations = sum(len(g["violations"]) for g in stormy)
    print(f"\n{world}, faults {rate}, seeds {', '.join(str(g['seed']) for g in stormy)}:")
    drifts = []
    for g in stormy:
        base = calm[g["seed"]]["gold_end"]
        drift = (g["gold_end"] - base) / base if base else float("inf")
        drifts.append(abs(drift))
        print(
            f"  seed {g['seed']:>4}: gold {g['gold_end']:>7} against {base:>7} without faults ({drift:+.1%}); "
            f"{len(g['discrepancies'])} discrepancies, {len(g['violations'])} violations, "
            f"{g['requests']['retried']} retried, {g['requests']['sent_twice']} sent twice"
        )
        for problem in g["violations"][:3]:
            print(f"      {problem}")
    met = discrepancies == 0 and violations == 0 and max(drifts) <= FAULT_DRIFT
    print(
        f"  discrepancies {discrepancies}, violations {violations}, worst gold drift {max(drifts):.1%}  "
        f"[target 0, 0, within {FAULT_DRIFT:.0%}: {_verdict(met)}]"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--worlds", default="classic,2026", help="comma-separated world profiles")
    parser.add_argument("--seeds", default="1-10,101-110", help="seed sets, e.g. 1-10,101-110 (each range a set)")
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--jobs", type=int, default=2, help="worker processes")
    parser.add_argument("--faults", type=float, default=0.3, help="the fault rate of the faults pass (0: skip it)")
    parser.add_argument("--fault-seeds", default="1-10", help="seeds of the faults pass")
    parser.add_argument("--no-oracle", action="store_true", help="skip the oracle")
    args = parser.parse_args()
    names = [name.strip() for name in args.worlds.split(",") if name.strip()]
    for name in names:
        worlds.named(name)
    sets = [(part, seeds_of(part)) for part in args.seeds.split(",") if part]
    fault_seeds = seeds_of(args.fault_seeds) if args.faults > 0 else []
    jobs: list[tuple[str, int, float]] = [(w, s, 0.0) for w in names for _, seeds in sets for s in seeds]
    jobs += [(w, s, 0.0) for w in names for s in fault_seeds if (w, s, 0.0) not in jobs]
    jobs += [(w, s, args.faults) for w in names for s in fault_seeds]
    print(
        f"bench/play: {len(jobs)} games of {args.days} days on {args.jobs} processes "
        f"(worlds {', '.join(names)}; seeds {args.seeds}; faults {args.faults} on seeds {args.fault_seeds})",
        flush=True,
    )
    started = time.monotonic()
    games: dict[tuple[str, int, float], Game] = {}
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {
            job: pool.submit(one_game, job[0], job[1], args.days, job[2], not args.no_oracle and job[2] == 0)
            for job in jobs
        }
        for job, future in futures.items():
            games[job] = future.result()
            done = games[job]
            print(f"  {job[0]} seed {job[1]} faults {job[2]}: gold {done['gold_end']}", file=sys.stderr, flush=True)
    for name in names:
        for label, seeds in sets:
            print_figures(name, label, [games[name, s, 0.0] for s in seeds])
        if fault_seeds:
            print_faults(
                name,
                args.faults,
                [games[name, s, args.faults] for s in fault_seeds],
                {s: games[name, s, 0.0] for s in fault_seeds},
            )
    print(f"\n{len(jobs)} games in {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
