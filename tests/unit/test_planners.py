"""The shop's decisions (domain.planners), each on a small hand-made history, and the contract's floor under any."""

from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from domain import ledger, market, planners
from domain.inventory import Inventory
from domain.ledger import GOLD, SHOP, AccountRef
from domain.market import Forecast, History, Sold, Tick
from domain.planners import Shelf
from domain.potions import BLENDS, COLOURS, DEFAULT_POTIONS, PotionType
from tests.helpers import BLUE, GREEN, RED, WHOLESALE, barrel
from tests.unit.test_market import priced, week

POTIONS = [*DEFAULT_POTIONS, *BLENDS]
BY_SKU = {p.sku: p for p in POTIONS}
PURE = ["RED_POTION", "GREEN_POTION", "BLUE_POTION", "DARK_POTION"]


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


def forecast(sales=None, visitors=None, ticks=24, start=0, offers=()) -> Forecast:  # type: ignore[no-untyped-def]
    """A game of `ticks` ticks from tick `start` of the week: each tick `visitors` (class -> n) come, the pure
    potions and every potion they buy are on the shelf at 40, and they buy `sales` (class -> sku -> units)."""
    sales, visitors = sales or {}, visitors or {}
    shown = {sku: (40, 10) for sku in PURE} | {sku: (40, 10) for s in sales.values() for sku in s}
    sold = {(kind, sku): Sold(n, 40 * n) for kind, s in sales.items() for sku, n in s.items()}
    carts = {kind: (sum(s.values()), sum(s.values())) for kind, s in sales.items()}
    ticks_ = [Tick(d, h, visitors, shown, sold, carts, tuple(offers)) for d, h in week(ticks, start)]
    return Forecast.of(History(tuple(ticks_)), POTIONS)


SIX_CLASSES = {
    "Warrior": {"RED_POTION": 1},
    "Seer": {"GREEN_POTION": 1},
    "Runesmith": {"BLUE_POTION": 1},
    "Shadow Walker": {"DARK_POTION": 1},
}


# --- the shelf -------------------------------------------------------------------------------------------------------


def test_knowing_nothing_the_shelf_shows_the_four_colours_red_first_at_the_first_price():
    shelf = planners.plan_shelf(Forecast.of(History(), POTIONS), inventory(1000))
    assert list(shelf.chosen[:4]) == PURE
    assert set(shelf.prices.values()) == {market.FIRST_PRICE}  # (no tick told yet: no price test)


def test_the_shelf_shows_what_each_class_buys():
    sold = forecast(SIX_CLASSES | {"Hunter": {"YELLOW_POTION": 1}}, {k: 2 for k in [*SIX_CLASSES, "Hunter"]})
    chosen = planners.plan_shelf(sold, inventory(1000)).chosen
    assert set(PURE) | {"YELLOW_POTION"} <= set(chosen)


def test_the_shelf_tries_the_recipe_at_the_heart_of_what_a_class_buys():
    hunters = forecast({"Hunter": {"RED_POTION": 1, "GREEN_POTION": 1}}, {"Hunter": 4, "Warrior": 1})
    assert "YELLOW_POTION" in planners.plan_shelf(hunters, inventory(1000)).chosen


def test_a_potion_no_class_buys_gives_way_to_one_not_tried():
    only_red = forecast({"Warrior": {"RED_POTION": 1}}, {"Warrior": 2, "Seer": 2}, ticks=48)
    chosen = planners.plan_shelf(only_red, inventory(1000)).chosen
    assert chosen[0] != "GREEN_POTION" and "RED_POTION" in chosen
    untried = [sku for sku in chosen if sku not in PURE]  # the pure potions were shown 96 times to Seers, never sold
    assert untried and planners.plan_shelf(only_red, inventory(1000)).chosen.index(untried[0]) < chosen.index(
        "GREEN_POTION"
    )


def test_a_poor_shop_holds_its_price_whatever_the_tests_say():
    dear_sells = Forecast.of(priced(48, 40, lambda p: 9, visitors=12), POTIONS)  # a step up would earn more
    now = dear_sells.history.ticks[-1]
    test = market.price_test(now.day, now.hour)
    assert set(planners.plan_shelf(dear_sells, inventory(planners.POOR - 1)).prices.values()) == {round(40 * test)}
    assert set(planners.plan_shelf(dear_sells, inventory(10_000)).prices.values()) == {round(41 * test)}


def test_a_poor_shop_shows_single_colours_only():
    hunters = forecast({"Hunter": {"RED_POTION": 1, "GREEN_POTION": 1}}, {"Hunter": 4})
    chosen = planners.plan_shelf(hunters, inventory(planners.POOR - 1)).chosen
    assert all(max(BY_SKU[sku].potion_type.as_list()) == 100 for sku in chosen)


def test_a_colour_neither_on_hand_nor_offered_is_not_shelved():
    no_dark = [barrel(f"MEDIUM_{c}", 2500, colour, 250, 5) for c, colour in (("R", RED), ("G", GREEN), ("B", BLUE))]
    chosen = planners.plan_shelf(forecast(ticks=2, offers=no_dark), inventory(1000)).chosen
    assert all(BY_SKU[sku].potion_type.dark == 0 for sku in chosen)
    with_dark = planners.plan_shelf(forecast(ticks=2, offers=no_dark), inventory(1000, {"dark": 500})).chosen
    assert "DARK_POTION" in with_dark


def test_the_catalog_shows_the_shelf_in_stock_first_then_the_most_plentiful_at_the_shelfs_prices():
    stock = {"RED_POTION": 1, "GREEN_POTION": 9, "BLUE_POTION": 0, "TEAL_POTION": 4, "DARK_POTION": 2}
    shelf = Shelf(("BLUE_POTION", "RED_POTION", "DARK_POTION"), {p.sku: 33 for p in POTIONS})
    shown = planners.on_shelf(POTIONS, stock, shelf)
    assert [p.sku for p in shown] == ["RED_POTION", "DARK_POTION", "GREEN_POTION", "TEAL_POTION"]
    assert {p.price for p in shown} == {33}
    assert [p.price for p in planners.on_shelf(POTIONS, {"RED_POTION": 1}, None)] == [50]  # the list price
    assert len(planners.on_shelf(POTIONS, {p.sku: 1 for p in POTIONS}, shelf)) == 6


# --- bottling --------------------------------------------------------------------------------------------------------


def test_bottling_follows_forecast_demand_until_the_next_bottling():
    demand = forecast({"Warrior": {"RED_POTION": 2}, "Seer": {"GREEN_POTION": 1}}, {"Warrior": 2, "Seer": 2})
    targets = planners.bottling_targets(demand, [BY_SKU["RED_POTION"], BY_SKU["GREEN_POTION"]])
    assert targets["RED_POTION"] > targets["GREEN_POTION"] > 0
    plan = dict(planners.plan_bottling(demand, inventory(ml={"red": 200, "green": 10_000}), [BY_SKU["RED_POTION"]]))
    assert plan == {PotionType(100, 0, 0, 0): 2}  # no more than the ml on hand


def test_a_full_week_of_liquid_fills_the_shelf_in_proportion_to_demand():
    demand = forecast({"Warrior": {"RED_POTION": 2}, "Seer": {"GREEN_POTION": 1}}, {"Warrior": 2, "Seer": 2})
    chosen = [BY_SKU["RED_POTION"], BY_SKU["GREEN_POTION"]]
    plan = dict(planners.plan_bottling(demand, inventory(ml={"red": 5_000, "green": 5_000}), chosen))
    red, green = plan[PotionType(100, 0, 0, 0)], plan[PotionType(0, 100, 0, 0)]
    assert red + green == 50  # the shelf is full
    assert red > green


def test_nothing_is_bottled_for_demand_after_the_week_ends():
    late = forecast({"Warrior": {"RED_POTION": 1}}, {"Warrior": 1}, ticks=83)  # now: Soulday 20:00, two ticks left
    plan = dict(planners.plan_bottling(late, inventory(ml={"red": 10_000}), [BY_SKU["RED_POTION"]]))
    assert 0 < plan[PotionType(100, 0, 0, 0)] <= 3


def test_a_potion_on_trial_is_bottled_a_trial_batch():
    nobody_saw_it = forecast({"Warrior": {"RED_POTION": 1}}, {"Warrior": 2}, ticks=4)
    plan = planners.plan_bottling(nobody_saw_it, inventory(ml={"red": 5_000}), [BY_SKU["RED75_BLUE25"]])
    assert plan == []  # (no blue)
    plan = planners.plan_bottling(nobody_saw_it, inventory(ml={"red": 5_000, "blue": 500}), [BY_SKU["RED75_BLUE25"]])
    assert plan == [(PotionType(75, 0, 25, 0), planners.TRIAL_BATCH)]


@settings(max_examples=150, deadline=None)
@given(
    ml=st.lists(st.integers(0, 2_000_000), min_size=4, max_size=4),
    potion_units=st.integers(1, 25_000),
    stock=st.lists(st.integers(0, 400), min_size=6, max_size=6),
    now=st.integers(0, 83),
)
def test_bottling_never_uses_more_ml_or_space_than_there_is(ml, potion_units, stock, now):
    demand = forecast(
        SIX_CLASSES, {"Warrior": 40, "Seer": 30, "Runesmith": 30, "Shadow Walker": 30}, ticks=1, start=now
    )
    chosen = [BY_SKU[sku] for sku in [*PURE, "YELLOW_POTION", "PURPLE_POTION"]]
    inv = inventory(
        ml=dict(zip(COLOURS, ml)), potions={p.sku: n for p, n in zip(chosen, stock)}, potion_units=potion_units
    )
    plan = planners.plan_bottling(demand, inv, chosen)
    used: Counter[str] = Counter()
    for potion_type, k in plan:
        used.update(potion_type.ml(k))
        assert 1 <= k <= planners.MAX_BOTTLES_PER_MIX
    assert all(used[c] <= inv.ml[c] for c in COLOURS)
    assert sum(k for _, k in plan) <= inv.free_potion_space
    assert len({t for t, _ in plan}) == len(plan) and {t for t, _ in plan} <= {p.potion_type for p in chosen}


# --- barrels ---------------------------------------------------------------------------------------------------------


def cost_and_ml(plan, offers=WHOLESALE):  # type: ignore[no-untyped-def]
    by_sku = {b.sku: b for b in offers}
    return sum(by_sku[s].price * k for s, k in plan), sum(by_sku[s].ml_per_barrel * k for s, k in plan)


REDS = forecast({"Warrior": {"RED_POTION": 1}}, {"Warrior": 4}, ticks=12)  # about 2 red potions a tick


def test_one_medium_barrel_beats_small_ones_at_twice_the_gold_per_ml():
    plan = planners.plan_barrels(REDS, inventory(1000), WHOLESALE, [BY_SKU["RED_POTION"]])
    assert plan == [("MEDIUM_RED_BARREL", 1)]


def test_small_barrels_only_while_gold_cannot_buy_bigger_and_the_shelf_would_run_out():
    poor = planners.plan_barrels(REDS, inventory(120), WHOLESALE, [BY_SKU["RED_POTION"]])
    assert poor == [("SMALL_RED_BARREL", 1)]
    stocked = inventory(120, potions={"RED_POTION": 20})  # enough to sell until gold buys a MEDIUM
    assert planners.plan_barrels(REDS, stocked, WHOLESALE, [BY_SKU["RED_POTION"]]) == []


def test_a_mini_barrel_only_when_the_shop_has_nothing_to_sell():
    assert planners.plan_barrels(REDS, inventory(70), WHOLESALE, [BY_SKU["RED_POTION"]]) == [("MINI_RED_BARREL", 1)]
    has_some = inventory(70, potions={"RED_POTION": 4})
    assert planners.plan_barrels(REDS, has_some, WHOLESALE, [BY_SKU["RED_POTION"]]) == []


def test_a_large_barrel_when_it_fits_and_the_rest_of_the_week_uses_it():
    busy = forecast({"Warrior": {"RED_POTION": 2}}, {"Warrior": 10}, ticks=12)
    plan = planners.plan_barrels(busy, inventory(5000, ml_units=2), WHOLESALE, [BY_SKU["RED_POTION"]])
    assert plan == [("LARGE_RED_BARREL", 1)]
    late = forecast({"Warrior": {"RED_POTION": 2}}, {"Warrior": 10}, ticks=76)  # a day left: 2,400 ml of red at most
    plan = planners.plan_barrels(late, inventory(5000, ml_units=2), WHOLESALE, [BY_SKU["RED_POTION"]])
    assert "LARGE_RED_BARREL" not in dict(plan)


def test_no_liquid_for_colours_the_shelf_does_not_use_nor_beyond_what_the_week_needs():
    plan = planners.plan_barrels(REDS, inventory(5000), WHOLESALE, [BY_SKU["RED_POTION"]])
    assert all(sku.endswith("RED_BARREL") for sku, _ in plan)
    full = inventory(5000, ml={"red": 9_000})
    assert planners.plan_barrels(REDS, full, WHOLESALE, [BY_SKU["RED_POTION"]]) == []


@settings(max_examples=150, deadline=None)
@given(
    gold=st.integers(0, 100_000),
    ml=st.lists(st.integers(0, 5_000), min_size=4, max_size=4),
    quantities=st.lists(st.integers(0, 12), min_size=len(WHOLESALE), max_size=len(WHOLESALE)),
    now=st.integers(0, 83),
)
def test_the_barrel_plan_never_spends_more_gold_space_or_barrels_than_there_are(gold, ml, quantities, now):
    offers = [barrel(b.sku, b.ml_per_barrel, b.potion_type, b.price, q) for b, q in zip(WHOLESALE, quantities)]
    demand = forecast(SIX_CLASSES, {"Warrior": 9, "Seer": 9, "Runesmith": 9, "Shadow Walker": 9}, ticks=1, start=now)
    inv = inventory(gold, dict(zip(COLOURS, ml)), ml_units=3)
    plan = planners.plan_barrels(demand, inv, offers, [BY_SKU[sku] for sku in [*PURE, "YELLOW_POTION"]])
    cost, added = cost_and_ml(plan, offers)
    assert cost <= gold and added <= inv.free_ml_space
    offered = {b.sku: b.quantity for b in offers}
    assert all(0 < k <= offered[sku] for sku, k in plan)


# --- capacity --------------------------------------------------------------------------------------------------------


def test_no_capacity_when_the_shelf_holds_what_sells():
    assert planners.plan_capacity(REDS, inventory(100_000), [BY_SKU["RED_POTION"]]) == (0, 0)


def test_a_potion_unit_when_the_shelf_is_too_small_for_what_sells_before_the_week_ends():
    crowd = forecast({"Warrior": {"RED_POTION": 36}}, {"Warrior": 12}, ticks=12)  # 72 between two bottlings
    assert planners.plan_capacity(crowd, inventory(10_000), [BY_SKU["RED_POTION"]]) == (1, 0)
    late = forecast({"Warrior": {"RED_POTION": 36}}, {"Warrior": 12}, ticks=83)
    assert planners.plan_capacity(late, inventory(10_000), [BY_SKU["RED_POTION"]]) == (0, 0)  # too late to pay back
    assert planners.plan_capacity(crowd, inventory(3000), [BY_SKU["RED_POTION"]]) == (0, 0)  # barrels need the gold


def test_an_ml_unit_when_large_barrels_are_usual_and_the_week_uses_them():
    large = barrel("LARGE_RED_BARREL", 10_000, RED, 500, 5)
    medium = barrel("MEDIUM_RED_BARREL", 2500, RED, 250, 5)
    busy = forecast({"Warrior": {"RED_POTION": 10}}, {"Warrior": 10}, ticks=12, offers=(large, medium))
    red = [BY_SKU["RED_POTION"]]
    assert planners.plan_capacity(busy, inventory(20_000, ml={"red": 2500}), red) == (0, 1)  # 72,000 ml to go
    never_large = forecast({"Warrior": {"RED_POTION": 10}}, {"Warrior": 10}, ticks=12, offers=(medium,))
    assert planners.plan_capacity(never_large, inventory(20_000, ml={"red": 2500}), red) == (0, 0)
