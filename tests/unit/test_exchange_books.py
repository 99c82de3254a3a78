"""The simulator's own books: what deliveries and sales do to them, how they compare with what the shop reports,
and how they check the shop's plans against the contract."""

from cauldrons.exchange.books import UNSEEN, Books, Difference
from cauldrons.exchange.world import BarrelOffer, CatalogItem

RED, BLUE, PURPLE = (100, 0, 0, 0), (0, 0, 100, 0), (50, 0, 50, 0)
SMALL_RED = BarrelOffer("SMALL_RED_BARREL", 500, "red", 100, 10)
MEDIUM_BLUE = BarrelOffer("MEDIUM_BLUE_BARREL", 2500, "blue", 300, 10)


def stocked() -> Books:
    """A shop that bought 1000 red and 2500 blue ml (400 gold, from 1000) and bottled 5 red and 10 purple."""
    books = Books(gold=1000)
    books.barrels_delivered([(SMALL_RED, 2), (MEDIUM_BLUE, 1)])
    books.bottled([(RED, 5), (PURPLE, 10)])
    return books


def accounts(books: Books, changed: dict[str, int] | None = None) -> dict[str, int]:
    """The accounts GET /ledger/accounts would list for `books` (potions the catalog has not named for the books go
    under OTHER_<n>), with the `changed` balances instead."""
    balances = {
        "shop/gold": books.gold,
        "shop/potion_capacity": books.potion_capacity,
        "shop/ml_capacity": books.ml_capacity,
        "world/gold": -100,
        **{f"shop/ml:{c}": n for c, n in books.ml.items()},
    }
    for n, (recipe, count) in enumerate(sorted(books.potions.items())):
        balances[f"shop/potion:{books.skus.get(recipe, f'OTHER_{n}')}"] = count
    return {**balances, **(changed or {})}


def test_the_books_start_where_a_reset_leaves_the_shop():
    books = Books()
    assert (books.gold, books.total_ml, books.total_potions) == (100, 0, 0)
    assert (books.potion_capacity, books.ml_capacity, books.free_potions, books.free_ml) == (1, 1, 50, 10_000)


def test_barrels_cost_their_price_and_bring_their_ml_of_their_colour():
    books = stocked()
    assert books.gold == 1000 - 2 * 100 - 300
    assert books.ml["red"] == 1000 - 500 - 500 and books.ml["blue"] == 2500 - 500


def test_bottling_turns_each_colours_percent_of_100_ml_into_a_potion():
    books = stocked()
    assert books.potions == {RED: 5, PURPLE: 10}
    assert books.total_ml == 3500 - 1500 and books.total_potions == 15


def test_a_sale_takes_potions_and_brings_gold():
    books = stocked()
    books.sold([(RED, 2), (PURPLE, 1)], 155)
    assert books.potions == {RED: 3, PURPLE: 9} and books.gold == 500 + 155


def test_capacity_costs_1000_a_unit():
    books = Books(gold=2500)
    books.capacity_bought(1, 1)
    assert (books.gold, books.potion_capacity, books.ml_capacity, books.free_potions) == (500, 2, 2, 100)


def test_an_audit_that_matches_has_no_differences_and_one_that_does_not_names_each_figure():
    books = stocked()
    assert books.audit_differences({"gold": 500, "ml_in_barrels": 2000, "number_of_potions": 15}) == []
    assert books.audit_differences({"gold": 450, "ml_in_barrels": 2000, "number_of_potions": 16}) == [
        Difference("audit gold", 500, 450),
        Difference("audit number_of_potions", 15, 16),
    ]


def test_the_catalog_teaches_the_books_their_skus_and_must_show_their_quantities():
    books = stocked()
    catalog = [CatalogItem("PURPLE_POTION", "Purple", 10, 55, PURPLE), CatalogItem("RED_POTION", "Red", 4, 50, RED)]
    differences, problems = books.catalog_differences(catalog)
    assert differences == [Difference("catalog RED_POTION", 5, 4)] and problems == []
    assert books.skus == {PURPLE: "PURPLE_POTION", RED: "RED_POTION"}
    assert books.potions_by_sku() == {"PURPLE_POTION": 10, "RED_POTION": 5}


def test_a_catalog_that_breaks_the_contract_is_reported():
    books = stocked()
    books.catalog_differences([CatalogItem("RED_POTION", "Red", 5, 50, RED)])
    _, problems = books.catalog_differences([CatalogItem("BLUE_POTION", "Blue", 5, 50, RED)])
    assert "one sku, one recipe" in problems[0]
    _, problems = books.catalog_differences([CatalogItem("RED_POTION", "Red", 5, 50, RED)])
    assert problems == ["the catalog lists 1 potions but 2 kinds are in stock"]
    _, problems = books.catalog_differences([CatalogItem("ODD", "Odd", 0, 501, (1, 2, 3, 4))])
    assert "breaks the contract" in problems[0]


def test_accounts_that_match_have_no_differences():
    books = stocked()
    books.catalog_differences([CatalogItem("RED_POTION", "Red", 5, 50, RED)])  # PURPLE's sku is not known yet
    assert books.account_differences(accounts(books)) == []


def test_every_shop_account_that_differs_is_named_and_unseen_skus_are_compared_as_one_sum():
    books = stocked()
    books.catalog_differences([CatalogItem("RED_POTION", "Red", 5, 50, RED)])
    wrong = accounts(
        books,
        {
            "shop/gold": 499,
            "shop/ml:blue": 0,
            "shop/potion:RED_POTION": 6,
            "shop/potion:OTHER_0": 9,
            "shop/potion_capacity": 2,
            "shop/mystery": 3,
            "suppliers/gold": 7,
        },
    )
    assert books.account_differences(wrong) == [
        Difference("shop/gold", 500, 499),
        Difference("shop/potion_capacity", 1, 2),
        Difference("shop/ml:blue", 2000, 0),
        Difference("shop/potion:RED_POTION", 5, 6),
        Difference("shop/mystery", 0, 3),
        Difference(UNSEEN, 10, 9),
    ]


def test_a_missing_account_is_a_zero_balance():
    books = Books()
    assert books.account_differences({"shop/gold": 100, "shop/potion_capacity": 1, "shop/ml_capacity": 1}) == []


def test_a_barrel_order_may_not_cost_more_gold_or_ml_than_the_shop_has():
    books = Books(gold=250)
    assert books.barrel_order_problems([(SMALL_RED, 2)]) == []
    assert books.barrel_order_problems([(SMALL_RED, 3)]) == ["barrel plan costs 300 gold but the shop has 250"]
    books.gold = 10_000
    assert books.barrel_order_problems([(MEDIUM_BLUE, 5)]) == [
        "barrel plan brings 12500 ml but the shop has room for 10000"
    ]


def test_a_bottler_plan_may_use_only_ml_on_hand_and_free_potion_space():
    books = stocked()  # red 0, blue 2000 ml; 35 potions of room
    mixes, problems = books.bottler_plan_problems([{"potion_type": [0, 0, 100, 0], "quantity": 20}])
    assert mixes == [(BLUE, 20)] and problems == []
    _, problems = books.bottler_plan_problems(
        [{"potion_type": [50, 0, 50, 0], "quantity": 2}, {"potion_type": [0, 0, 100, 0], "quantity": 34}]
    )
    assert problems == [
        "bottler plan uses 100 ml of red but the shop has 0",
        "bottler plan uses 3500 ml of blue but the shop has 2000",
        "bottler plan makes 36 potions but the shop has room for 35",
    ]
    mixes, problems = books.bottler_plan_problems(
        [{"potion_type": [50, 50, 0, 1], "quantity": 1}, {"potion_type": [0, 0, 100, 0], "quantity": 0}]
    )
    assert mixes == [] and len(problems) == 2


def test_a_capacity_plan_is_0_to_10_units_each_and_affordable():
    books = Books(gold=2500)
    assert books.capacity_plan_problems({"potion_capacity": 1, "ml_capacity": 1}) == []
    assert books.capacity_plan_problems({"potion_capacity": 2, "ml_capacity": 1}) == [
        "capacity plan costs 3000 gold but the shop has 2500"
    ]
    assert "breaks the contract" in books.capacity_plan_problems({"potion_capacity": 11, "ml_capacity": 0})[0]


def test_books_that_go_negative_or_beyond_capacity_break_the_shops_invariants():
    assert Books().invariant_problems() == []
    books = Books(gold=-1)
    books.sold([(RED, 1)], 0)
    books.barrels_delivered([(MEDIUM_BLUE, 5)])
    assert books.invariant_problems() == [
        "gold is -1501",
        "-1 potions of [100, 0, 0, 0]",
        "12500 ml held with room for 10000",
    ]
