"""What the shop learns from its own data (domain.market), each rule on a small hand-made history."""

from datetime import datetime, timedelta

import pytest

from domain import market
from domain.market import Forecast, History, Records, Sold, Tick, price_test, ticks_left
from domain.potions import BLENDS, DEFAULT_POTIONS, Barrel

POTIONS = [*DEFAULT_POTIONS, *BLENDS]
BY_SKU = {p.sku: p for p in POTIONS}
T0 = datetime(2026, 12, 7, 12, 0)
MEDIUM_RED = Barrel("MEDIUM_RED_BARREL", 2500, (1, 0, 0, 0), 250, 5)
HOURS = range(0, 24, 2)


def week(ticks: int, start: int = 0) -> list[tuple[str, int]]:
    """The (day, hour) of `ticks` ticks of the week from tick `start`."""
    days = ("Edgeday", "Bloomday", "Arcanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")
    return [(days[(start + k) // 12], 2 * ((start + k) % 12)) for k in range(ticks)]


def test_ticks_left_count_to_the_end_of_the_week_whichever_spelling_of_day_3():
    assert ticks_left("Edgeday", 0) == 84
    assert ticks_left("Soulday", 22) == 1
    assert ticks_left("Aracanaday", 0) == ticks_left("Arcanaday", 0) == 60
    assert ticks_left("Moonday", 4) == 84  # a day the shop does not know: a whole week ahead


def test_records_are_bucketed_into_the_tick_they_happened_in():
    at = [T0 + timedelta(minutes=n) for n in range(10)]
    records = Records(
        ticks=[("Edgeday", 0, at[0]), ("Edgeday", 2, at[3]), ("Edgeday", 2, at[4]), ("Edgeday", 4, at[7])],
        visitors=[(at[1], "Warrior"), (at[1], "Seer"), (at[5], "Warrior")],
        shown=[(at[1], "RED_POTION", 40, 3), (at[5], "RED_POTION", 46, 2)],
        sales=[(at[2], "Warrior", "RED_POTION", 2, 80, 1), (at[6], "Warrior", "RED_POTION", 1, 46, 2)],
        offers=[
            (0, Barrel("MEDIUM_RED_BARREL", 2500, (1, 0, 0, 0), 250, 5)),
            (2, Barrel("X", 500, (1, 0, 0, 0), 9, 1)),
        ],
    )
    first, second, third = records.history().ticks  # the time told twice in a row is one tick
    assert (first.day, first.hour, second.hour, third.hour) == ("Edgeday", 0, 2, 4)
    assert first.visitors == {"Warrior": 1, "Seer": 1} and second.visitors == {"Warrior": 1}
    assert first.shown == {"RED_POTION": (40, 3)} and second.price_level == 46
    assert first.sold == {("Warrior", "RED_POTION"): Sold(2, 80)}
    assert first.carts == {"Warrior": (1, 1)}
    assert [b.sku for b in first.offers] == ["MEDIUM_RED_BARREL"] and [b.sku for b in second.offers] == ["X"]
    assert third.visitors == {} and third.price_level is None


def selling(kind_sales: dict[str, dict[str, int]], visitors: dict[str, int], ticks: int, price: int = 40) -> History:
    """`ticks` ticks at `price` in which `visitors` come each tick and buy `kind_sales` (class -> sku -> units), with
    every potion they bought and RED_POTION on the shelf."""
    shown = {sku: (price, 10) for sales in kind_sales.values() for sku in sales} | {"RED_POTION": (price, 10)}
    sold = {(kind, sku): Sold(n, n * price) for kind, sales in kind_sales.items() for sku, n in sales.items()}
    carts = {kind: (sum(s.values()), sum(s.values())) for kind, s in kind_sales.items()}
    return History(tuple(Tick(d, h, visitors, shown, sold, carts) for d, h in week(ticks)))


def test_a_class_is_forecast_to_buy_what_it_bought_per_visitor():
    forecast = Forecast.of(selling({"Warrior": {"RED_POTION": 1}}, {"Warrior": 2}, ticks=40), POTIONS)
    assert forecast.rate("Warrior", BY_SKU["RED_POTION"]) == pytest.approx(0.5, abs=0.02)
    assert forecast.rate("Warrior", BY_SKU["BLUE_POTION"]) < 0.1  # far from anything it buys


def test_the_recipe_at_the_heart_of_a_classs_purchases_is_expected_to_sell_before_it_is_tried():
    hunters = selling({"Hunter": {"RED_POTION": 1, "GREEN_POTION": 1}}, {"Hunter": 4}, ticks=20)
    forecast = Forecast.of(hunters, POTIONS)
    centre, _ = forecast.taste["Hunter"]
    assert centre == [50, 50, 0, 0]
    yellow = BY_SKU["YELLOW_POTION"]  # 50/50: never shown
    assert forecast.optimistic_rate("Hunter", yellow) > forecast.optimistic_rate("Hunter", BY_SKU["RED_POTION"])
    assert forecast.optimistic_rate("Hunter", yellow) > forecast.optimistic_rate("Hunter", BY_SKU["BLUE_POTION"])


def test_a_class_that_bought_nothing_is_hoped_to_buy_an_untried_potion_but_not_forecast_to():
    forecast = Forecast.of(selling({}, {"Seer": 3}, ticks=10), POTIONS)
    green = BY_SKU["GREEN_POTION"]
    assert forecast.rate("Seer", green) == market.NEUTRAL_RATE
    assert forecast.optimistic_rate("Seer", green) > market.HOPEFUL_RATE
    assert forecast.rate("Seer", BY_SKU["RED_POTION"]) < market.NEUTRAL_RATE  # shown 30 times, never bought


def test_second_lines_are_the_share_of_carts_that_hold_two_potions():
    history = History((Tick("Edgeday", 0, {"Bard": 4}, {"RED_POTION": (40, 9)}, {}, {"Bard": (4, 6)}),))
    assert Forecast.of(history, POTIONS).second_lines == {"Bard": 0.5}


def test_demand_follows_the_hour_and_the_day_seen():
    busy = [Tick(d, h, {"Warrior": 6 if h >= 12 else 2}) for d, h in week(24)]
    forecast = Forecast.of(History(tuple(busy)), POTIONS)
    assert forecast.visitors_at("Arcanaday", 14) == pytest.approx(6)
    assert forecast.visitors_at("Arcanaday", 2) == pytest.approx(2)
    assert forecast.future(3) == [("Bloomday", 22), ("Arcanaday", 0), ("Arcanaday", 2)]


def test_no_demand_is_forecast_past_the_end_of_the_week():
    history = selling({"Warrior": {"RED_POTION": 1}}, {"Warrior": 2}, ticks=83)  # Soulday 20:00 is the last told
    forecast = Forecast.of(history, POTIONS)
    assert len(forecast.future(10)) == 2
    assert forecast.demand(BY_SKU["RED_POTION"], 10) == pytest.approx(forecast.demand(BY_SKU["RED_POTION"], 2))


def test_ml_costs_what_the_barrels_usually_on_offer_cost():
    medium = Barrel("MEDIUM_RED_BARREL", 2500, (1, 0, 0, 0), 250, 5)
    bargain = Barrel("LARGE_RED_BARREL", 10_000, (1, 0, 0, 0), 500, 1)
    ticks = [Tick(d, h, offers=(medium, bargain) if n == 0 else (medium,)) for n, (d, h) in enumerate(week(8))]
    forecast = Forecast.of(History(tuple(ticks)), POTIONS)
    assert forecast.ml_cost["red"] == pytest.approx(0.1)  # the LARGE came once in eight rounds: not counted on
    assert forecast.unit_cost(BY_SKU["YELLOW_POTION"]) == pytest.approx(10.0)


def priced(ticks: int, base: int, sells, visitors: int = 4) -> History:  # type: ignore[no-untyped-def]
    """`ticks` ticks priced at `base` with the week's price tests, in which `sells(price)` of the `visitors`
    Warriors buy a potion."""
    out = []
    for day, hour in week(ticks):
        price = round(base * price_test(day, hour))
        n = sells(price)
        out.append(
            Tick(
                day,
                hour,
                {"Warrior": visitors},
                {"RED_POTION": (price, 20)},
                {("Warrior", "RED_POTION"): Sold(n, n * price)} if n else {},
                {"Warrior": (n, n)} if n else {},
            )
        )
    return History(tuple(out))


GRID = list(range(15, 300))


def test_the_first_price_holds_until_enough_has_sold():
    assert Forecast.of(History(), POTIONS).price_level(GRID) == market.FIRST_PRICE
    assert Forecast.of(priced(4, 40, lambda p: 1), POTIONS).price_level(GRID) == market.FIRST_PRICE


def test_the_price_rises_when_dearer_ticks_sell_about_as_much():
    assert Forecast.of(priced(48, 40, lambda p: 9, visitors=12), POTIONS).price_level(GRID) == 41


def test_the_price_falls_when_dearer_ticks_sell_too_much_less():
    sells = {32: 14, 40: 9, 50: 3}  # an elasticity near -3: a step down earns more
    assert Forecast.of(priced(48, 40, sells.get, visitors=12), POTIONS).price_level(GRID) == 39


def test_the_price_holds_while_the_tests_are_too_few():
    assert Forecast.of(priced(8, 40, lambda p: 9, visitors=12), POTIONS).price_level(GRID) == 40
