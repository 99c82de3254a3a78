from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger, planners
from domain.inventory import Inventory
from domain.ledger import GOLD, SHOP, AccountRef
from domain.potions import COLOURS, DEFAULT_POTIONS, Potion, PotionType
from tests.helpers import BLUE, RED, WHOLESALE, barrel


def inventory(gold=100, ml=None, potions=None, potion_units=1, ml_units=1) -> Inventory:
    balances = {
        AccountRef(SHOP, GOLD): gold,
        AccountRef(SHOP, ledger.POTION_CAPACITY): potion_units,
        AccountRef(SHOP, ledger.ML_CAPACITY): ml_units,
    }
    for colour, n in (ml or {}).items():
        balances[AccountRef(SHOP, ledger.ML[colour])] = n
    for sku, n in (potions or {}).items():
        balances[AccountRef(SHOP, ledger.potion(sku))] = n
    return Inventory.from_balances(balances)


def cost_and_ml(plan):
    offers = {b.sku: b for b in WHOLESALE}
    return (sum(offers[s].price * k for s, k in plan), sum(offers[s].ml_per_barrel * k for s, k in plan))


def test_the_barrel_plan_never_spends_more_gold_or_space_than_the_shop_has():
    for gold in (0, 59, 60, 100, 777, 5000, 100_000):
        for ml in ({}, {"red": 9_000}, {"red": 2_500, "green": 2_500, "blue": 2_500, "dark": 2_000}):
            inv = inventory(gold, ml)
            plan = planners.plan_barrels(inv, WHOLESALE, DEFAULT_POTIONS)
            cost, added = cost_and_ml(plan)
            assert cost <= gold and added <= inv.free_ml_space
            offered = {b.sku: b.quantity for b in WHOLESALE}
            assert all(0 < k <= offered[sku] for sku, k in plan)


def test_a_poor_shop_still_buys_the_best_barrel_it_can_afford():
    plan = planners.plan_barrels(inventory(100), WHOLESALE, DEFAULT_POTIONS)
    assert cost_and_ml(plan)[0] > 0


def test_the_barrel_plan_keeps_a_mix_of_colours():
    plan = planners.plan_barrels(inventory(2000), WHOLESALE, DEFAULT_POTIONS)
    colours = {sku.split("_")[1] for sku, _ in plan}
    assert colours == {"RED", "GREEN", "BLUE", "DARK"}


def test_the_barrel_plan_buys_the_colour_the_shop_is_short_of():
    plan = planners.plan_barrels(inventory(300, {"red": 3000, "green": 3000, "dark": 1500}), WHOLESALE, DEFAULT_POTIONS)
    assert plan and all("BLUE" in sku for sku, _ in plan)


def test_the_barrel_plan_skips_colours_no_potion_uses():
    only_red = [Potion("RED_POTION", "Red", PotionType(100, 0, 0, 0), 50)]
    plan = planners.plan_barrels(inventory(1000), WHOLESALE, only_red)
    assert plan and all("RED" in sku for sku, _ in plan)


def test_the_barrel_plan_prefers_cheaper_ml():
    offers = [barrel("DEAR_RED", 500, RED, 200, 5), barrel("CHEAP_RED", 500, RED, 100, 5)]
    only_red = [Potion("RED_POTION", "Red", PotionType(100, 0, 0, 0), 50)]
    assert planners.plan_barrels(inventory(200), offers, only_red) == [("CHEAP_RED", 2)]


def test_one_bigger_barrel_that_overshoots_a_little_beats_many_small_ones_at_twice_the_price_per_ml():
    offers = [barrel("SMALL_RED", 500, RED, 100, 10), barrel("MEDIUM_RED", 2500, RED, 250, 10)]
    only_red = [Potion("RED_POTION", "Red", PotionType(100, 0, 0, 0), 50)]
    shop = inventory(1000, {"red": 5600})  # wants 7,500 ml of red: 1,900 short
    assert planners.plan_barrels(shop, offers, only_red) == [("MEDIUM_RED", 1)]  # 2,500 ml for 250 gold
    nearly_full = inventory(1000, {"red": 6400})  # 1,100 short: a 2,500 ml barrel would overshoot too far
    assert planners.plan_barrels(nearly_full, offers, only_red) == [("SMALL_RED", 3)]


def test_the_barrel_plan_buys_nothing_when_there_is_nothing_to_buy():
    assert planners.plan_barrels(inventory(0), WHOLESALE, DEFAULT_POTIONS) == []
    assert planners.plan_barrels(inventory(1000), [], DEFAULT_POTIONS) == []
    assert planners.plan_barrels(inventory(1000, {"red": 10_000}), WHOLESALE, DEFAULT_POTIONS) == []


def test_free_barrels_are_bounded_by_space_and_quantity():
    offers = [barrel("FREE_BLUE", 1000, BLUE, 0, 50)]
    plan = planners.plan_barrels(inventory(0), offers, DEFAULT_POTIONS)
    assert plan and plan[0][1] * 1000 <= 10_000


def test_the_bottling_plan_uses_only_ml_on_hand_and_free_space():
    inv = inventory(ml={"red": 2_550, "green": 1_000, "blue": 999, "dark": 0}, potions={"RED_POTION": 10})
    plan = planners.plan_bottling(inv, DEFAULT_POTIONS)
    used: Counter[str] = Counter()
    for potion_type, k in plan:
        used.update(potion_type.ml(k))
    assert all(used[c] <= inv.ml[c] for c in used)
    assert 0 < sum(k for _, k in plan) <= inv.free_potion_space


def test_the_bottling_plan_tops_up_the_scarcest_potion_first():
    inv = inventory(ml={"red": 500, "green": 500}, potions={"RED_POTION": 5}, potion_units=1)
    plan = dict((tuple(t.as_list()), k) for t, k in planners.plan_bottling(inv, DEFAULT_POTIONS))
    assert plan[(0, 100, 0, 0)] >= plan.get((100, 0, 0, 0), 0)


def test_the_bottling_plan_stops_at_capacity():
    inv = inventory(ml={"red": 10_000}, potions={"GREEN_POTION": 45})
    assert planners.plan_bottling(inv, DEFAULT_POTIONS) == [(PotionType(100, 0, 0, 0), 5)]


def test_nothing_to_bottle_gives_an_empty_plan():
    assert planners.plan_bottling(inventory(ml={"red": 99}), DEFAULT_POTIONS) == []


def test_capacity_is_bought_only_with_gold_to_spare():
    assert planners.plan_capacity(inventory(1499)) == (0, 0)
    assert planners.plan_capacity(inventory(1500)) == (1, 0)
    assert planners.plan_capacity(inventory(2500)) == (1, 1)


def test_capacity_orders_stay_within_ten_units_of_each_kind():
    assert planners.plan_capacity(inventory(10**9)) == (10, 10)


def test_one_bottling_line_never_exceeds_the_contracts_10000():
    inv = inventory(ml={"red": 3_000_000}, potion_units=1000)
    plan = planners.plan_bottling(inv, [Potion("RED_POTION", "Red", PotionType(100, 0, 0, 0), 50)])
    assert plan == [(PotionType(100, 0, 0, 0), 10_000)]


def test_only_potions_the_catalog_can_show_are_bottled():
    inv = inventory(ml={c: 2_500 for c in ("red", "green", "blue", "dark")}, potions={"GREEN_POTION": 1})
    planned = {tuple(t.as_list()) for t, _ in planners.plan_bottling(inv, DEFAULT_POTIONS)}
    assert len(planned) == 6
    assert (0, 100, 0, 0) in planned  # already on offer
    assert (50, 50, 0, 0) not in planned  # the cheapest of the rest is left out


@settings(max_examples=300, deadline=None)
@given(
    ml=st.lists(st.integers(0, 2_000_000), min_size=4, max_size=4),
    potion_units=st.integers(1, 25_000),
    stock=st.lists(st.integers(0, 400), min_size=len(DEFAULT_POTIONS), max_size=len(DEFAULT_POTIONS)),
)
def test_the_bottling_plan_levels_the_potions_within_ml_space_and_the_mix_bound(ml, potion_units, stock):
    inv = inventory(
        ml=dict(zip(COLOURS, ml)), potions={p.sku: n for p, n in zip(DEFAULT_POTIONS, stock)}, potion_units=potion_units
    )
    plan = planners.plan_bottling(inv, DEFAULT_POTIONS)
    used: Counter[str] = Counter()
    for potion_type, k in plan:
        used.update(potion_type.ml(k))
        assert 1 <= k <= planners.MAX_BOTTLES_PER_MIX
    assert all(used[c] <= inv.ml[c] for c in COLOURS)
    assert sum(k for _, k in plan) <= inv.free_potion_space
    assert len(plan) <= 6 and len({t for t, _ in plan}) == len(plan)
    by_type = {p.potion_type: p for p in DEFAULT_POTIONS}
    count = dict(inv.potions)
    planned = Counter({by_type[t].sku: k for t, k in plan})
    for sku, k in planned.items():
        count[sku] = count.get(sku, 0) + k
    left = {c: inv.ml[c] - used[c] for c in COLOURS}
    still_makeable = [
        p
        for p in DEFAULT_POTIONS
        if p.sku in planned
        and planned[p.sku] < planners.MAX_BOTTLES_PER_MIX
        and all(left[c] >= n for c, n in p.potion_type.ml(1).items())
    ]
    if sum(planned.values()) < inv.free_potion_space:
        assert not still_makeable  # space was left only because nothing more could be bottled
    for sku in planned:  # no potion was raised more than one above a planned potion that could still be made
        assert all(count[sku] <= count[q.sku] + 1 for q in still_makeable)
