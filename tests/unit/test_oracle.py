"""The oracle: its fast evaluation agrees with the world's own choice visit by visit, it finds the known best
catalog for a few hand-made shoppers, and it never does worse than a catalog it is given."""

import random
from dataclasses import replace

import numpy as np
import pytest

from cauldrons.exchange import oracle, world
from cauldrons.exchange.classic import WORLD as CLASSIC
from cauldrons.exchange.oracle import Offer
from cauldrons.exchange.world import Customer, Visit
from cauldrons.exchange.world2026 import WORLD as Y2026

RED, DARK = (100, 0, 0, 0), (0, 0, 0, 100)


def shopper(kind: str, species: str, level: int, purse: int, tick: int = 1, **draws: object) -> Visit:
    who = Customer(f"c{tick}", "Aldric", kind, species, level)
    return Visit(tick, "Edgeday", 0, 0, who, True, purse, (1, 1), **draws)  # type: ignore[arg-type]


def test_the_candidates_are_every_recipe_in_quarter_steps_and_liquid_costs_medium_barrel_prices():
    grid = oracle.candidates()
    assert len(grid) == len(set(grid)) == 35 and all(sum(r) == 100 for r in grid)
    assert {RED, DARK, (50, 50, 0, 0), (75, 0, 25, 0), (25, 25, 25, 25)} <= set(grid)
    assert oracle.liquid_cost(RED) == pytest.approx(10) and oracle.liquid_cost((0, 0, 100, 0)) == pytest.approx(12)
    assert oracle.liquid_cost((50, 0, 50, 0)) == pytest.approx(11)


@pytest.mark.parametrize("profile", [CLASSIC, Y2026], ids=lambda w: w.name)
def test_the_fast_evaluation_is_the_worlds_own_choice(profile):
    """Every price column the search reads equals a replay of the game's shoppers through `World.choose`, with the
    2026 recognition counted tick by tick; ties (equal prices, equal appeal) included."""
    visits = world.shoppers(profile, 4, 3, 150)
    judge = oracle.evaluator(profile, visits)
    pool = [judge.add(recipe) for recipe in oracle.candidates()]
    rng = random.Random(1)
    for _ in range(12):
        items = rng.sample(pool, rng.randint(1, 6))
        prices = [rng.choice([30, 35, 40, rng.randint(1, 140)]) for _ in items]
        vary = rng.randrange(len(items))
        grid = np.array(sorted(rng.sample(range(1, 200), 3)), dtype=np.int64)
        fast = judge.profits(items, prices, vary, grid)
        for column, price in enumerate(grid):
            offers = [
                Offer(judge.recipes[i], int(price) if k == vary else p) for k, (i, p) in enumerate(zip(items, prices))
            ]
            assert oracle.replay(profile, visits, offers).gold == pytest.approx(oracle.STARTING_GOLD + fast[column])


def test_the_oracle_finds_the_best_price_for_three_classic_shoppers():
    """Three Necromancers who like only dark potions, carrying 100, 80 and 60 gold, want one each: three sales at
    60 (3 x 50 profit) beat two at 80 (2 x 70) and one at 100 (90)."""
    visits = [
        replace(shopper("Necromancer", "Human", 5, purse, tick=n + 1), wanted=(1, 0))
        for n, purse in enumerate((100, 80, 60))
    ]
    verdict = oracle.best_catalog(CLASSIC, visits)
    assert verdict.gold == 100 + 3 * (60 - 10)
    assert verdict.score.potions == 3
    assert 60 in {o.price for o in verdict.catalog}


def test_the_oracle_finds_the_best_price_for_three_2026_shoppers_and_a_rival():
    """Three level-3 Folk Warriors pay 50 for red; one of them is offered red at 40 by a rival. Pricing red at 40
    sells three (3 x 30); at 49 only the two without a rival (2 x 39)."""
    visits = [shopper("Warrior", "Folk", 3, 1000, tick=n + 1, rival=rival) for n, rival in enumerate((None, None, 40))]
    verdict = oracle.best_catalog(Y2026, visits)
    assert verdict.gold == 100 + 3 * 30
    assert Offer(RED, 40) in verdict.catalog and verdict.score.potions == 3
    no_rival = oracle.best_catalog(Y2026, [replace(v, rival=None) for v in visits])
    assert no_rival.gold == 100 + 3 * 39 and Offer(RED, 49) in no_rival.catalog


def test_the_oracle_counts_recognition_with_the_catalog_it_tries():
    """Fifteen Seers who always look buy green at 40; a sixteenth, whose draw (0.85) is above the chance to look
    with no sales (0.7), looks once fifteen sales to Seers are in (0.858), counted up to the end of the last tick."""
    green = [Offer((0, 100, 0, 0), 40)]
    many = [shopper("Seer", "Folk", 3, 1000, tick=t, look=0.1) for t in range(1, 16)]
    late = shopper("Seer", "Folk", 3, 1000, tick=16, look=0.85)
    assert oracle.replay(Y2026, [late], green).checkouts == 0
    assert oracle.replay(Y2026, [*many, late], green).checkouts == 16
    assert oracle.replay(Y2026, [replace(v, tick=1) for v in [*many, late]], green).checkouts == 15, (
        "sales of the same tick do not count yet"
    )
    verdict = oracle.best_catalog(Y2026, [*many, late], kicks=0)
    assert verdict.score.checkouts == 16 and verdict.gold == 100 + 16 * (49 - 10)


@pytest.mark.parametrize("profile", [CLASSIC, Y2026], ids=lambda w: w.name)
def test_the_oracle_never_does_worse_than_a_catalog_it_is_given(profile):
    visits = world.shoppers(profile, 2, 1, 150)
    rng = random.Random(3)
    given = [Offer(recipe, rng.randint(20, 120)) for recipe in rng.sample(oracle.candidates(), 6)]
    odd = [Offer((33, 33, 34, 0), 45)]  # not on the grid
    verdict = oracle.best_catalog(profile, visits, starts=[given, odd], step=50, kicks=0)
    assert verdict.gold >= round(oracle.replay(profile, visits, given).gold)
    assert verdict.gold >= round(oracle.replay(profile, visits, odd).gold)
    assert len(verdict.catalog) <= oracle.CATALOG_SIZE
    assert verdict.score == oracle.replay(profile, visits, verdict.catalog)


def test_a_catalog_from_a_games_sales_keeps_the_best_sellers():
    sold = {"RED": 9, "BLUE": 1, "DARK": 5, "GONE": 7}
    recipes = {"RED": RED, "BLUE": (0, 0, 100, 0), "DARK": DARK}
    assert oracle.from_sales(sold, recipes, {"RED": 35, "BLUE": 40, "DARK": 30}) == [
        Offer(RED, 35),
        Offer(DARK, 30),
        Offer((0, 0, 100, 0), 40),
    ]
