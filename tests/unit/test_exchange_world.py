"""The simulator's worlds: the classic rules, the 2026 rules (tastes, willingness to pay, rivals, recognition,
crowds, barrels), and the shoppers drawn from the seed alone."""

import random
import statistics
from dataclasses import replace

import pytest

from cauldrons.exchange import classic, world, world2026, worlds
from cauldrons.exchange.classic import WORLD as CLASSIC
from cauldrons.exchange.world import BarrelOffer, CatalogItem, Customer, Visit
from cauldrons.exchange.world2026 import WORLD as Y2026

RED, GREEN, BLUE, DARK = (100, 0, 0, 0), (0, 100, 0, 0), (0, 0, 100, 0), (0, 0, 0, 100)
PURPLE, YELLOW, WOLF = (50, 0, 50, 0), (50, 50, 0, 0), (75, 25, 0, 0)


def item(sku: str, recipe: tuple[int, int, int, int], price: int = 50, quantity: int = 10) -> CatalogItem:
    return CatalogItem(sku, sku.title(), quantity, price, recipe)


CATALOG = [
    item("RED", RED),
    item("GREEN", GREEN),
    item("BLUE", BLUE, 60),
    item("DARK", DARK, 75),
    item("PURPLE", PURPLE, 55),
    item("YELLOW", YELLOW),
]


def customer(kind: str = "Warrior", level: int = 5, species: str = "Human") -> Customer:
    return Customer("c1", "Aldric", kind, species, level)


def visit(
    who: Customer, purse: int = 10_000, wanted: tuple[int, int] = (1, 1), shops: bool = True, **draws: object
) -> Visit:
    return Visit(1, "Edgeday", 0, 0, who, shops, purse, wanted, **draws)  # type: ignore[arg-type]


def test_the_worlds_are_named_and_2026_is_the_default():
    assert set(worlds.WORLDS) == {"classic", "2026"} and worlds.DEFAULT == "2026"
    assert worlds.named("classic") is CLASSIC and worlds.named("2026") is Y2026
    with pytest.raises(ValueError, match="classic"):
        worlds.named("1999")
    assert CLASSIC.days[2] == "Arcanaday" and Y2026.days[2] == "Aracanaday"  # each world spells its week
    assert len(world.week_moments(Y2026, 2)) == 24 and world.week_moments(Y2026, 8)[-1] == (96, "Edgeday", 22)


def test_the_simulate_command_offers_every_world_and_defaults_to_2026():
    from cauldrons.cli import simulate

    option = next(p for p in simulate.params if p.name == "world")
    assert set(option.type.choices) == set(worlds.WORLDS)  # type: ignore[attr-defined]
    assert option.default == worlds.DEFAULT == "2026"


def test_a_customer_is_checked_when_made():
    with pytest.raises(ValueError, match="level"):
        customer(level=21)
    with pytest.raises(ValueError, match="no such customer"):
        customer(kind="")


# --- classic -------------------------------------------------------------------------------------------------------


def test_the_same_seed_makes_the_same_town_and_the_same_offers():
    assert CLASSIC.population(random.Random(3), 150) == CLASSIC.population(random.Random(3), 150)
    assert world.offers(CLASSIC, 3, 5, "Edgeday", 8) == world.offers(CLASSIC, 3, 5, "Edgeday", 8)
    assert CLASSIC.population(random.Random(3), 150) != CLASSIC.population(random.Random(4), 150)


def test_the_classic_town_has_every_kind_of_customer_and_mostly_low_levels():
    town = CLASSIC.population(random.Random(1), 300)
    assert {c.character_class for c in town} == set(classic.CLASS_COLOURS)
    assert {c.species for c in town} == set(classic.SPECIES_WEALTH)
    assert all(1 <= c.level <= 20 for c in town)
    assert sum(c.level <= 10 for c in town) > 0.7 * len(town)
    assert len({c.customer_id for c in town}) == len(town)


def test_classic_wealth_grows_with_level_and_some_species_are_richer():
    wealth = [classic.wealth(customer(level=n)) for n in range(1, 21)]
    assert wealth == sorted(wealth) and len(set(wealth)) == 20
    assert classic.wealth(customer(level=1)) == 60
    assert (
        classic.wealth(customer(species="Dwarf"))
        > classic.wealth(customer())
        > classic.wealth(customer(species="Halfling"))
    )


def test_the_classic_purse_is_between_60_percent_and_all_of_the_wealth():
    rng = random.Random(0)
    hero = customer(level=20)
    purses = [classic.purse(hero, rng) for _ in range(200)]
    assert min(purses) >= 0.6 * classic.wealth(hero) - 1 and max(purses) <= classic.wealth(hero)


def test_each_classic_class_likes_its_colours():
    assert classic.appeal("Warrior", RED) == 1.0
    assert classic.appeal("Warrior", BLUE) == 0.0
    assert classic.appeal("Warrior", YELLOW) == pytest.approx(2 / 3)
    assert classic.appeal("Wizard", PURPLE) >= classic.LIKES > classic.appeal("Wizard", RED)
    assert classic.appeal("Necromancer", DARK) == 1.0
    for kind in classic.CLASS_COLOURS:
        assert any(classic.appeal(kind, i.potion_type) >= classic.LIKES for i in CATALOG), kind


def test_a_classic_customer_buys_only_what_they_like_best_first():
    lines = CLASSIC.choose(visit(customer("Warrior", level=20), wanted=(3, 2)), CATALOG, {})
    assert [(i.sku, q) for i, q in lines] == [("RED", 3), ("YELLOW", 2)]
    assert CLASSIC.choose(visit(customer("Necromancer", level=20)), CATALOG, {})[0][0].sku == "DARK"
    assert CLASSIC.choose(visit(customer("Warrior"), shops=False), CATALOG, {}) == []  # did not go shopping


def test_a_classic_tie_goes_to_the_cheaper_then_the_sku():
    twins = [item("B", RED, 40), item("A", RED, 40), item("C", RED, 30)]
    assert [i.sku for i, _ in classic.choose_lines(customer(), twins, 1000, (1, 1))] == ["C", "A"]


def test_a_classic_customer_never_spends_more_than_their_purse_nor_takes_more_than_the_catalog_has():
    for gold in range(0, 400, 7):
        for kind in classic.CLASS_COLOURS:
            scarce = [item(i.sku, i.potion_type, i.price, quantity=1) for i in CATALOG]
            lines = CLASSIC.choose(visit(customer(kind, level=20), gold, (4, 4)), scarce, {})
            assert sum(i.price * q for i, q in lines) <= gold
            assert all(q <= 1 for _, q in lines)
            assert len(lines) <= classic.MAX_LINES


def test_a_classic_customer_who_cannot_afford_anything_or_likes_nothing_buys_nothing():
    assert CLASSIC.choose(visit(customer("Warrior"), 49), CATALOG, {}) == []
    assert CLASSIC.choose(visit(customer("Necromancer")), [i for i in CATALOG if i.sku != "DARK"], {}) == []
    assert CLASSIC.choose(visit(customer("Warrior")), [], {}) == []


def test_classic_higher_levels_want_more():
    rng = random.Random(2)
    low = sum(classic.wanted(customer(level=1), rng) for _ in range(300))
    high = sum(classic.wanted(customer(level=20), rng) for _ in range(300))
    assert low == 300 and high > 2 * low


def test_classic_crowds_are_bigger_in_the_evening_and_on_busy_days():
    rng = random.Random(0)

    def average(day: str, hour: int) -> float:
        return sum(CLASSIC.crowd_size(day, hour, rng) for _ in range(500)) / 500

    assert average("Edgeday", 2) < average("Edgeday", 10) < average("Edgeday", 18) < average("Soulday", 18)


def test_the_classic_wholesale_catalog_offers_single_colour_barrels_at_the_exchanges_prices():
    for seed in range(30):
        offers = world.offers(CLASSIC, seed, 1, "Edgeday", 0)
        assert len({o.sku for o in offers}) == len(offers)
        for offer in offers:
            assert sum(offer.potion_type) == 1.0 and offer.potion_type.count(1.0) == 1
            assert offer.potion_type[world.COLOURS.index(offer.colour)] == 1.0
            assert 10 <= offer.quantity <= 30
            size = offer.sku.split("_")[0]
            assert offer.ml_per_barrel == {"MINI": 200, "SMALL": 500, "MEDIUM": 2500, "LARGE": 10_000}[size]
            low, high = {"MINI": (54, 66), "SMALL": (90, 132), "MEDIUM": (225, 330), "LARGE": (400, 750)}[size]
            assert low <= offer.price <= high, offer
    every = {o.sku for seed in range(30) for o in world.offers(CLASSIC, seed, 1, "Edgeday", 0)}
    assert len(every) == 16, "every size of every colour is offered some day"


# --- 2026 ----------------------------------------------------------------------------------------------------------


def folk(kind: str = "Warrior", level: int = 3) -> Customer:
    return Customer("c1", "Aldric", kind, "Folk", level)


def test_a_potion_matches_a_class_by_its_distance_from_the_preferred_recipe():
    assert world2026.match("Warrior", RED) == 1.0
    assert world2026.match("Warrior", WOLF) == 0.75
    assert world2026.match("Warrior", YELLOW) == 0.5
    assert world2026.match("Warrior", BLUE) == 0.0
    assert world2026.match("Hunter", YELLOW) == 1.0 and world2026.match("Hunter", RED) == 0.5
    assert world2026.match("Shadow Walker", DARK) == 1.0 and world2026.match("Shadow Walker", (0, 0, 50, 50)) == 0.5


def test_willingness_to_pay_grows_with_wealth_and_with_match():
    assert world2026.wealth(folk(level=3)) == 50
    assert world2026.willingness(folk(level=3), RED) == 50
    assert world2026.willingness(folk(level=3), WOLF) == pytest.approx(50 * 0.75**world2026.GAMMA)
    assert world2026.willingness(folk(level=13), RED) > world2026.willingness(folk(level=3), RED)
    dvergar = Customer("c2", "Gilda", "Warrior", "Dvergar", 3)
    assert world2026.willingness(dvergar, RED) > world2026.willingness(folk(level=3), RED)
    town = Y2026.population(random.Random(1), 1000)
    typical = statistics.median(world2026.wealth(c) for c in town)
    assert 40 <= typical <= 70, "a typical visitor pays 40-70 gold for a perfect match"
    assert max(world2026.wealth(c) for c in town) > 100, "a rich high-level one pays more"


def test_a_2026_visitor_takes_the_largest_surplus_cheaper_then_sku_on_a_tie():
    who = folk()  # pays 50 for red, 28.1 for wolf, 12.5 for yellow
    shelf = [item("RED", RED, 45), item("WOLF", WOLF, 20), item("YELLOW", YELLOW, 5)]
    assert [(i.sku, q) for i, q in Y2026.choose(visit(who), shelf, {})] == [("WOLF", 1)]  # 8.1 > 7.5 > 5
    shelf = [item("RED", RED, 40), item("WOLF", WOLF, 20)]
    assert [i.sku for i, _ in Y2026.choose(visit(who), shelf, {})] == ["RED"]  # 10 > 8.1
    twins = [item("B", RED, 40), item("A", RED, 40)]
    assert [i.sku for i, _ in Y2026.choose(visit(who), twins, {})] == ["A"]
    assert Y2026.choose(visit(who), [item("RED", RED, 50)], {}) == [], "no surplus, no sale"
    assert Y2026.choose(visit(who), [item("BLUE", BLUE, 1)], {}) == [], "a potion worth nothing to them"


def test_a_2026_visitor_buys_from_us_only_if_we_beat_the_rival():
    who = folk()  # pays 50 for red
    shelf = [item("RED", RED, 40)]  # our surplus 10
    assert Y2026.choose(visit(who, rival=40), shelf, {}) != [], "a tie with the rival goes to us"
    assert Y2026.choose(visit(who, rival=39), shelf, {}) == []
    assert Y2026.choose(visit(who, rival=None), shelf, {}) != []
    assert Y2026.choose(visit(who, rival=60), shelf, {}) != [], "a rival dearer than they would pay is no rival"
    assert world2026.rival_surplus(visit(who, rival=60)) == 0 and world2026.rival_surplus(visit(who, rival=35)) == 15


def test_a_2026_visitor_keeps_to_their_purse_and_to_the_stock():
    who = folk(level=20)  # pays 118 for red, wants up to 4
    shelf = [item("RED", RED, 40, quantity=10), item("WOLF", WOLF, 30)]
    assert Y2026.choose(visit(who, purse=100, wanted=(4, 1)), shelf, {}) == [(shelf[0], 2)]
    assert Y2026.choose(visit(who, purse=39, wanted=(4, 1)), shelf, {}) == [(shelf[1], 1)], "red is beyond the purse"
    assert Y2026.choose(visit(who, purse=29), shelf, {}) == []
    scarce = [item("RED", RED, 40, quantity=1)]
    assert Y2026.choose(visit(who, wanted=(4, 1)), scarce, {}) == [(scarce[0], 1)]


def test_a_2026_visitor_may_buy_a_second_potion_with_what_is_left():
    who = folk(level=20)  # pays 118 for red, 66.4 for wolf
    shelf = [item("RED", RED, 40), item("WOLF", WOLF, 30)]
    assert Y2026.choose(visit(who, wanted=(2, 3), second=True), shelf, {}) == [(shelf[0], 2), (shelf[1], 3)]
    assert Y2026.choose(visit(who, purse=110, wanted=(2, 3), second=True), shelf, {}) == [(shelf[0], 2), (shelf[1], 1)]
    assert Y2026.choose(visit(who, wanted=(2, 3), second=False), shelf, {}) == [(shelf[0], 2)]
    assert Y2026.choose(visit(who, wanted=(2, 3), second=True, rival=40), shelf, {}) == [(shelf[0], 2)], (
        "the second line must beat the rival too (wolf's surplus 36.4 < the rival's 78)"
    )


def test_recognition_the_more_we_sold_to_a_class_the_likelier_its_visitors_look():
    assert world2026.look_chance(0) == pytest.approx(0.7)
    chances = [world2026.look_chance(n) for n in range(0, 200, 10)]
    assert chances == sorted(chances) and chances[-1] < 0.95 + 1e-9
    shelf = [item("RED", RED, 40)]
    undecided = visit(folk(), look=0.8)
    assert Y2026.choose(undecided, shelf, {}) == []
    assert Y2026.choose(undecided, shelf, {"Warrior": 15}) != []  # 0.7 + 0.25 * (1 - e^-1) = 0.858
    assert Y2026.choose(undecided, shelf, {"Seer": 100}) == [], "recognition is per class"


def test_the_2026_town_and_its_crowds():
    town = Y2026.population(random.Random(1), 2000)
    shares = {kind: sum(c.character_class == kind for c in town) / len(town) for kind in world2026.PREFERENCES}
    assert shares["Warrior"] > shares["Shadow Walker"] + 0.05, "classes are not uniform"
    assert {c.species for c in town} == set(world2026.SPECIES)
    assert sum(c.level <= 6 for c in town) > 0.7 * len(town) and max(c.level for c in town) <= 20
    weeks = [len(world.shoppers(Y2026, seed, 7, 150)) for seed in range(1, 11)]
    assert 300 <= statistics.mean(weeks) <= 450, weeks
    rng = random.Random(0)

    def average(day: str, hour: int) -> float:
        return sum(Y2026.crowd_size(day, hour, rng) for _ in range(2000)) / 2000

    assert average("Edgeday", 2) < average("Edgeday", 10) < average("Edgeday", 18) < average("Blesseday", 18)


def test_the_2026_wholesale_catalog():
    large_seen, dark_missing = 0, 0
    for tick, day, hour in world.week_moments(Y2026, 7):
        if tick % 2 == 0:
            continue
        offers = world.offers(Y2026, 1, tick, day, hour)
        large = [o for o in offers if o.sku.startswith("LARGE")]
        assert not large or (day, hour) in world2026.LARGE_WINDOWS
        large_seen += bool(large)
        dark_missing += not any(o.colour == "dark" and o.sku.startswith("MEDIUM") for o in offers)
        for offer in offers:
            size = offer.sku.split("_")[0]
            assert offer.ml_per_barrel == {"MINI": 200, "SMALL": 500, "MEDIUM": 2500, "LARGE": 10_000}[size]
            base = {"MINI": 60, "SMALL": 100, "MEDIUM": 250, "LARGE": 550}[size]
            if offer.colour == "blue":
                base = world2026.BLUE_PRICES.get(size, base)
            assert 0.9 * base - 1 <= offer.price <= 1.1 * base + 1, offer
        per_ml = {o.sku.split("_")[0]: o.price / o.ml_per_barrel for o in offers if o.colour == "red"}
        if "LARGE" in per_ml and "MEDIUM" in per_ml:
            assert per_ml["LARGE"] < per_ml["MEDIUM"], "LARGE is the cheapest per ml"
    assert 3 <= large_seen <= 6 and dark_missing >= 1


# --- shoppers ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", [CLASSIC, Y2026], ids=lambda w: w.name)
def test_shoppers_come_from_the_seed_alone_tick_by_tick(profile):
    visits = world.shoppers(profile, 7, 2, 150)
    assert visits == world.shoppers(profile, 7, 2, 150) != world.shoppers(profile, 8, 2, 150)
    assert [v.tick for v in visits] == sorted(v.tick for v in visits)
    assert all(
        v.customer.character_class in (classic.CLASS_COLOURS if profile is CLASSIC else world2026.PREFERENCES)
        for v in visits
    )
    # a tick's crowd drawn on its own is the same as within the whole game: no stream is shared between ticks
    town = world.town(profile, 7, 150)
    tick, day, hour = world.week_moments(profile, 2)[17]
    assert world.crowd(profile, 7, town, tick, day, hour) == [v for v in visits if v.tick == tick]
    # a longer game starts with the same visits
    assert world.shoppers(profile, 7, 3, 150)[: len(visits)] == visits


@pytest.mark.parametrize("profile", [CLASSIC, Y2026], ids=lambda w: w.name)
def test_what_a_shopper_buys_draws_nothing(profile):
    """`choose` takes no generator: the same visit and catalog always give the same cart, and what the shop
    offers cannot move anyone else's draws."""
    visits = world.shoppers(profile, 3, 1, 150)
    before = list(visits)
    for catalog in (CATALOG, CATALOG[:2], [replace(i, price=i.price * 2) for i in CATALOG], []):
        carts = [profile.choose(v, catalog, {}) for v in visits]
        assert carts == [profile.choose(v, catalog, {}) for v in visits]
    assert visits == before == world.shoppers(profile, 3, 1, 150)


def test_a_barrel_offer_is_the_contracts_barrel():
    offer = BarrelOffer("SMALL_BLUE_BARREL", 500, "blue", 120, 12)
    assert offer.as_json() == {
        "sku": "SMALL_BLUE_BARREL",
        "ml_per_barrel": 500,
        "potion_type": [0.0, 0.0, 1.0, 0.0],
        "price": 120,
        "quantity": 12,
    }
    assert offer.as_json(3)["quantity"] == 3
    with pytest.raises(ValueError):
        BarrelOffer("PINK", 500, "pink", 1, 1)


OFFERS = [BarrelOffer("SMALL_RED_BARREL", 500, "red", 100, 10), BarrelOffer("MINI_BLUE_BARREL", 200, "blue", 60, 5)]


def test_an_order_is_what_the_plan_asked_for_and_what_was_offered():
    order, problems = world.fill_order([{"sku": "SMALL_RED_BARREL", "quantity": 4}], OFFERS)
    assert order == [(OFFERS[0], 4)] and problems == []


def test_a_plan_beyond_the_offer_is_reported_and_delivered_only_up_to_the_offer():
    order, problems = world.fill_order(
        [{"sku": "MINI_BLUE_BARREL", "quantity": 3}, {"sku": "MINI_BLUE_BARREL", "quantity": 3}], OFFERS
    )
    assert order == [(OFFERS[1], 5)]
    assert problems == ["barrel plan asks for 6 of MINI_BLUE_BARREL but only 5 were offered"]


def test_a_plan_naming_what_was_not_offered_or_a_bad_quantity_is_reported_and_skipped():
    order, problems = world.fill_order(
        [
            {"sku": "LARGE_GOLD_BARREL", "quantity": 1},
            {"sku": "SMALL_RED_BARREL", "quantity": 0},
            {"sku": "SMALL_RED_BARREL", "quantity": True},
        ],
        OFFERS,
    )
    assert order == []
    assert len(problems) == 3 and "not offered" in problems[0] and "positive whole number" in problems[1]
