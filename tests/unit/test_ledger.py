import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain import inventory, ledger
from domain.errors import (
    InsufficientCapacity,
    InsufficientGold,
    InsufficientMl,
    InsufficientStock,
    LedgerInvariantViolated,
    ShopError,
)
from domain.ledger import GOLD, SHOP, AccountRef, Entry, Transaction
from domain.potions import PotionType
from tests.helpers import SMALL_RED, barrel

START = {
    AccountRef(SHOP, GOLD): 100,
    AccountRef(SHOP, ledger.POTION_CAPACITY): 1,
    AccountRef(SHOP, ledger.ML_CAPACITY): 1,
}


def test_a_transaction_that_does_not_net_to_zero_refuses_to_exist():
    with pytest.raises(LedgerInvariantViolated, match="do not net to zero"):
        Transaction("oops", "gold from nowhere", (Entry(AccountRef(SHOP, GOLD), 5),))


def test_a_transaction_balances_per_commodity_not_in_total():
    with pytest.raises(LedgerInvariantViolated):
        Transaction(
            "oops",
            "gold for ml without a counter-party",
            (Entry(AccountRef(SHOP, GOLD), -5), Entry(AccountRef(SHOP, ledger.ML["red"]), 5)),
        )


def test_a_change_must_be_a_whole_number():
    with pytest.raises(LedgerInvariantViolated, match="whole number"):
        Transaction("oops", "half gold", (Entry(AccountRef(SHOP, GOLD), 0.5), Entry(AccountRef("x", GOLD), -0.5)))


def test_a_barrel_purchase_moves_gold_to_suppliers_and_ml_to_the_shop():
    txn = ledger.barrel_purchase([barrel(quantity=2), barrel("MIX", 1000, (0.5, 0, 0.5, 0), 300, 1)])
    changes = txn.changes()
    assert changes[AccountRef(SHOP, GOLD)] == -500
    assert changes[AccountRef(ledger.SUPPLIERS, GOLD)] == 500
    assert changes[AccountRef(SHOP, ledger.ML["red"])] == 1500
    assert changes[AccountRef(SHOP, ledger.ML["blue"])] == 500
    assert AccountRef(SHOP, ledger.ML["green"]) not in changes


def test_bottling_turns_ml_into_potions_through_the_bottling_account():
    txn = ledger.bottling([("PURPLE_POTION", PotionType(50, 0, 50, 0), 3)])
    changes = txn.changes()
    assert changes[AccountRef(SHOP, ledger.ML["red"])] == -150
    assert changes[AccountRef(SHOP, ledger.ML["blue"])] == -150
    assert changes[AccountRef(SHOP, ledger.potion("PURPLE_POTION"))] == 3
    assert changes[AccountRef(ledger.BOTTLING, ledger.potion("PURPLE_POTION"))] == -3


def test_a_sale_charges_each_line_at_its_price():
    txn = ledger.sale(1, [("RED_POTION", 2, 50), ("BLUE_POTION", 1, 60)], "gold coins")
    assert txn.changes()[AccountRef(SHOP, GOLD)] == 160
    assert txn.changes()[AccountRef(SHOP, ledger.potion("RED_POTION"))] == -2
    assert "paid by gold coins" in txn.description


def test_reset_brings_every_shop_balance_back_to_the_start():
    balances = {
        **START,
        AccountRef(SHOP, GOLD): 7,
        AccountRef(SHOP, ledger.ML["red"]): 300,
        AccountRef(SHOP, ledger.potion("RED_POTION")): 4,
        AccountRef(SHOP, ledger.POTION_CAPACITY): 3,
    }
    after = inventory.apply(balances, ledger.reset(balances))
    assert {a: n for a, n in after.items() if n and a.owner == SHOP} == START


def test_opening_an_empty_shop_gives_it_the_starting_stock():
    txn = ledger.reset({}, kind="opening")
    assert {a: n for a, n in inventory.apply({}, txn).items() if a.owner == SHOP} == START
    assert txn.kind == "opening"


def test_check_covers_refuses_spending_gold_the_shop_does_not_have():
    with pytest.raises(InsufficientGold, match="needs 200 gold but the shop has 100"):
        inventory.check_covers(ledger.barrel_purchase([barrel(quantity=2)]), START)


def test_check_covers_refuses_bottling_without_the_ml():
    with pytest.raises(InsufficientMl, match="ml of red"):
        inventory.check_covers(ledger.bottling([("RED_POTION", PotionType(100, 0, 0, 0), 1)]), START)


def test_check_covers_refuses_selling_potions_not_in_stock():
    with pytest.raises(InsufficientStock, match="RED_POTION"):
        inventory.check_covers(ledger.sale(1, [("RED_POTION", 1, 50)], "x"), START)


def test_check_covers_refuses_filling_past_ml_capacity():
    rich = {**START, AccountRef(SHOP, GOLD): 10_000}
    with pytest.raises(InsufficientCapacity, match="10500 ml but capacity is 10000"):
        inventory.check_covers(ledger.barrel_purchase([barrel(quantity=21)]), rich)
    inventory.check_covers(ledger.barrel_purchase([barrel(quantity=20)]), rich)


def test_check_covers_refuses_bottling_past_potion_capacity():
    stocked = {**START, AccountRef(SHOP, ledger.ML["red"]): 10_000}
    with pytest.raises(InsufficientCapacity, match="51 potions but capacity is 50"):
        inventory.check_covers(ledger.bottling([("RED_POTION", PotionType(100, 0, 0, 0), 51)]), stocked)


def test_check_covers_lets_an_overfull_shop_sell():
    overfull = {**START, AccountRef(SHOP, ledger.potion("RED_POTION")): 60}
    inventory.check_covers(ledger.sale(1, [("RED_POTION", 1, 50)], "x"), overfull)


def test_check_covers_refuses_giving_back_capacity_the_shop_does_not_have():
    txn = ledger.transfer("correction", "x", [(SHOP, ledger.BUILDERS, ledger.POTION_CAPACITY, 2)])
    with pytest.raises(InsufficientCapacity):
        inventory.check_covers(txn, START)


def test_inventory_reads_balances_as_a_shopkeeper_does():
    stock = inventory.Inventory.from_balances(
        {
            **START,
            AccountRef(SHOP, ledger.potion("RED_POTION")): 3,
            AccountRef(SHOP, ledger.ML["dark"]): 40,
            AccountRef(ledger.CUSTOMERS, GOLD): -999,
        }
    )
    assert (stock.gold, stock.total_potions, stock.total_ml) == (100, 3, 40)
    assert (stock.free_potion_space, stock.free_ml_space) == (47, 9960)


def test_zero_quantity_lines_make_no_entries():
    assert ledger.barrel_purchase([barrel(quantity=0)]).entries == ()
    assert SMALL_RED.cost == 100


def test_only_stock_coming_in_or_capacity_going_out_touches_the_capacity_rule():
    red = PotionType(100, 0, 0, 0)
    assert inventory.touches_capacity(ledger.barrel_purchase([barrel()]))
    assert inventory.touches_capacity(ledger.bottling([("RED_POTION", red, 1)]))
    assert inventory.touches_capacity(ledger.correction(AccountRef(SHOP, ledger.POTION_CAPACITY), -1, "x"))
    assert not inventory.touches_capacity(ledger.sale(1, [("RED_POTION", 2, 50)], "x"))
    assert not inventory.touches_capacity(ledger.capacity_purchase(1, 1))
    assert not inventory.touches_capacity(ledger.correction(AccountRef(SHOP, ledger.GOLD), 5, "x"))


@given(
    gold=st.integers(0, 300),
    stock=st.dictionaries(st.sampled_from(["RED_POTION", "BLUE_POTION", "DARK_POTION"]), st.integers(0, 60)),
    ml=st.integers(0, 30_000),
    units=st.integers(0, 3),
    sold=st.lists(
        st.tuples(st.sampled_from(["RED_POTION", "BLUE_POTION"]), st.integers(1, 5)),
        max_size=2,
        unique_by=lambda line: line[0],
    ),
    bought=st.tuples(st.integers(0, 2), st.integers(0, 2)),
)
def test_a_posting_that_does_not_touch_capacity_is_judged_the_same_on_its_own_accounts(
    gold, stock, ml, units, sold, bought
):
    """Such a posting locks only its own accounts: what the rest of the shop holds cannot change the verdict."""
    balances = {
        AccountRef(SHOP, ledger.GOLD): gold,
        AccountRef(SHOP, ledger.ML["red"]): ml,
        AccountRef(SHOP, ledger.POTION_CAPACITY): units,
        AccountRef(SHOP, ledger.ML_CAPACITY): units,
        **{AccountRef(SHOP, ledger.potion(sku)): n for sku, n in stock.items()},
    }
    for txn in (ledger.sale(1, [(sku, q, 50) for sku, q in sold], "x"), ledger.capacity_purchase(*bought)):
        assert not inventory.touches_capacity(txn)
        own = {a: n for a, n in balances.items() if a in {e.account for e in txn.entries}}
        verdicts = []
        for seen in (balances, own):
            try:
                inventory.check_covers(txn, seen)
                verdicts.append(None)
            except ShopError as err:
                verdicts.append(str(err))
        assert verdicts[0] == verdicts[1]
