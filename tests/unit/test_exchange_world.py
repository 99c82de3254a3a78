"""The simulator's world: seeded customers, their tastes and purses, what they choose, and the wholesale catalog."""

import random

import pytest

from cauldrons.exchange import world
from cauldrons.exchange.world import BarrelOffer, CatalogItem, Customer

RED, GREEN, BLUE, DARK = (100, 0, 0, 0), (0, 100, 0, 0), (0, 0, 100, 0), (0, 0, 0, 100)
PURPLE, YELLOW = (50, 0, 50, 0), (50, 50, 0, 0)


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


def test_the_same_seed_makes_the_same_town_and_the_same_offers():
    assert world.population(random.Random(3)) == world.population(random.Random(3))
    assert world.wholesale_catalog(random.Random(3)) == world.wholesale_catalog(random.Random(3))
    assert world.population(random.Random(3)) != world.population(random.Random(4))


def test_the_town_has_every_kind_of_customer_and_mostly_low_levels():
    town = world.population(random.Random(1), 300)
    assert {c.character_class for c in town} == set(world.CLASS_COLOURS)
    assert {c.species for c in town} == set(world.SPECIES_WEALTH)
    assert all(1 <= c.level <= 20 for c in town)
    assert sum(c.level <= 10 for c in town) > 0.7 * len(town)
    assert len({c.customer_id for c in town}) == len(town)


def test_a_customer_is_checked_when_made():
    with pytest.raises(ValueError, match="level"):
        customer(level=21)
    with pytest.raises(ValueError, match="no such customer"):
        customer(kind="Accountant")


def test_wealth_grows_with_level_and_some_species_are_richer():
    wealth = [customer(level=n).wealth for n in range(1, 21)]
    assert wealth == sorted(wealth) and len(set(wealth)) == 20
    assert customer(level=1).wealth >= 50, "a level-1 customer can afford a 50-gold potion on a good day"
    assert customer(species="Dwarf").wealth > customer(species="Human").wealth > customer(species="Halfling").wealth


def test_the_purse_is_between_60_percent_and_all_of_the_wealth():
    rng = random.Random(0)
    hero = customer(level=20)
    purses = [world.purse(hero, rng) for _ in range(200)]
    assert min(purses) >= 0.6 * hero.wealth - 1 and max(purses) <= hero.wealth


def test_each_class_likes_its_colours():
    assert customer("Warrior").appeal(RED) == 1.0
    assert customer("Warrior").appeal(BLUE) == 0.0
    assert customer("Wizard").appeal(PURPLE) >= world.LIKES > customer("Wizard").appeal(RED)
    assert customer("Necromancer").appeal(DARK) == 1.0
    for kind in world.CLASS_COLOURS:
        assert any(customer(kind).appeal(i.potion_type) >= world.LIKES for i in CATALOG), kind


def test_a_customer_buys_only_what_they_like_best_first():
    lines = world.choose(customer("Warrior", level=20), CATALOG, 10_000, random.Random(0))
    assert [i.sku for i, _ in lines] == ["RED", "YELLOW"]
    assert all(q >= 1 for _, q in lines)
    assert world.choose(customer("Necromancer", level=20), CATALOG, 10_000, random.Random(0))[0][0].sku == "DARK"


def test_a_customer_never_spends_more_than_their_purse_nor_takes_more_than_the_catalog_has():
    rng = random.Random(5)
    for gold in range(0, 400, 7):
        for kind in world.CLASS_COLOURS:
            scarce = [item(i.sku, i.potion_type, i.price, quantity=1) for i in CATALOG]
            lines = world.choose(customer(kind, level=20), scarce, gold, rng)
            assert sum(i.price * q for i, q in lines) <= gold
            assert all(q <= 1 for _, q in lines)
            assert len(lines) <= world.MAX_LINES


def test_a_customer_who_cannot_afford_anything_or_likes_nothing_buys_nothing():
    assert world.choose(customer("Warrior"), CATALOG, 49, random.Random(0)) == []
    assert world.choose(customer("Necromancer"), [i for i in CATALOG if i.sku != "DARK"], 1000, random.Random(0)) == []
    assert world.choose(customer("Warrior"), [], 1000, random.Random(0)) == []


def test_higher_levels_buy_more():
    rng = random.Random(2)
    low = sum(q for _ in range(300) for _, q in world.choose(customer(level=1), CATALOG, 10_000, rng))
    high = sum(q for _ in range(300) for _, q in world.choose(customer(level=20), CATALOG, 10_000, rng))
    assert high > 2 * low


def test_crowds_are_bigger_in_the_evening_and_on_busy_days():
    rng = random.Random(0)

    def average(day: str, hour: int) -> float:
        return sum(world.crowd_size(day, hour, rng) for _ in range(500)) / 500

    assert average("Edgeday", 2) < average("Edgeday", 10) < average("Edgeday", 18) < average("Soulday", 18)
    town = world.population(random.Random(0), 20)
    crowd = world.visitors(town, "Soulday", 18, rng)
    assert 1 <= len(crowd) <= 20 and len(set(crowd)) == len(crowd)


def test_the_wholesale_catalog_offers_single_colour_barrels_at_the_exchanges_prices():
    for seed in range(30):
        offers = world.wholesale_catalog(random.Random(seed))
        assert len({o.sku for o in offers}) == len(offers)
        for offer in offers:
            assert sum(offer.potion_type) == 1.0 and offer.potion_type.count(1.0) == 1
            assert offer.potion_type[world.COLOURS.index(offer.colour)] == 1.0
            assert 10 <= offer.quantity <= 30
            size = offer.sku.split("_")[0]
            assert offer.ml_per_barrel == {"MINI": 200, "SMALL": 500, "MEDIUM": 2500, "LARGE": 10_000}[size]
            low, high = {"MINI": (54, 66), "SMALL": (90, 132), "MEDIUM": (225, 330), "LARGE": (400, 750)}[size]
            assert low <= offer.price <= high, offer
    every = {o.sku for seed in range(30) for o in world.wholesale_catalog(random.Random(seed))}
    assert len(every) == 16, "every size of every colour is offered some day"


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
