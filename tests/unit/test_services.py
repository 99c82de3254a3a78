"""The services on fakes, in the services' own terms."""

import json

import pytest

from domain import inventory, ledger
from domain.carts import Customer
from domain.errors import (
    CartClosed,
    CartNotFound,
    IdempotencyKeyReused,
    InsufficientCapacity,
    InsufficientGold,
    InsufficientMl,
    InsufficientStock,
    UnknownPotionType,
    UnknownSku,
)
from domain.potions import PotionType
from service_layer import services, views
from service_layer.idempotency import RequestKey
from tests.fakes import (
    FakeUnitOfWork,
)
from tests.helpers import ALICE, SMALL_GREEN, SMALL_RED, WHOLESALE, barrel

RED_POTION = PotionType(100, 0, 0, 0)


@pytest.fixture
def uow() -> FakeUnitOfWork:
    uow = FakeUnitOfWork()
    services.open_shop(uow)
    return uow


def audit(uow):
    return views.audit(None, uow)


def test_a_new_shop_opens_with_100_gold_and_one_unit_of_each_capacity(uow):
    assert audit(uow) == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 100}
    assert views.capacity_plan(uow) == {"potion_capacity": 0, "ml_capacity": 0}


def test_opening_twice_opens_once(uow):
    services.open_shop(uow)
    assert audit(uow)["gold"] == 100
    assert len(uow.transactions("opening")) == 1


def test_a_barrel_delivery_spends_gold_and_adds_ml(uow):
    reply = services.deliver_barrels("1", [SMALL_RED], uow)
    assert reply.status == 204 and not reply.replayed
    assert audit(uow) == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}
    assert uow.committed


def test_a_retried_delivery_charges_gold_once(uow):
    first = services.deliver_barrels("7", [SMALL_RED], uow)
    again = services.deliver_barrels("7", [SMALL_RED], uow)
    assert again.body == first.body and again.status == first.status and again.replayed
    assert audit(uow)["gold"] == 0
    assert len(uow.transactions("barrel_purchase")) == 1


def test_the_same_key_with_another_payload_is_refused_and_changes_nothing(uow):
    services.deliver_barrels("7", [SMALL_RED], uow)
    with pytest.raises(IdempotencyKeyReused, match="'7' was already used on barrels/deliver"):
        services.deliver_barrels("7", [SMALL_GREEN], uow)
    assert audit(uow)["ml_in_barrels"] == 500


def test_keys_are_scoped_per_route(uow):
    services.deliver_barrels("7", [barrel(price=0)], uow)
    services.deliver_capacity("7", 0, 0, uow)
    services.deliver_bottles("7", [(RED_POTION, 1)], uow)
    assert audit(uow)["number_of_potions"] == 1


def test_a_delivery_the_shop_cannot_pay_for_is_refused_and_leaves_no_key(uow):
    with pytest.raises(InsufficientGold):
        services.deliver_barrels("9", [barrel(quantity=2)], uow)
    assert audit(uow)["gold"] == 100
    assert RequestKey("barrels/deliver", "9") not in uow.requests()
    services.deliver_barrels("9", [barrel(quantity=1)], uow)  # a corrected retry succeeds
    assert audit(uow)["gold"] == 0


def test_barrels_beyond_ml_capacity_are_refused(uow):
    with pytest.raises(InsufficientCapacity):
        services.deliver_barrels("1", [barrel(ml=10_001, price=0)], uow)


def test_bottling_turns_ml_into_potions(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    services.deliver_bottles("1", [(RED_POTION, 3)], uow)
    assert audit(uow) == {"number_of_potions": 3, "ml_in_barrels": 200, "gold": 0}


def test_bottling_without_the_ml_is_refused(uow):
    with pytest.raises(InsufficientMl):
        services.deliver_bottles("1", [(RED_POTION, 1)], uow)
    assert audit(uow)["number_of_potions"] == 0


def test_bottling_a_recipe_the_shop_does_not_sell_is_refused(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    with pytest.raises(UnknownPotionType, match=r"\[90, 10, 0, 0\]"):
        services.deliver_bottles("1", [(PotionType(90, 10, 0, 0), 1)], uow)


def test_bottling_past_potion_capacity_is_refused(uow):
    services.deliver_barrels("1", [barrel(ml=6000, price=0)], uow)
    with pytest.raises(InsufficientCapacity):
        services.deliver_bottles("1", [(RED_POTION, 51)], uow)


def test_capacity_the_shop_cannot_pay_for_is_refused(uow):
    with pytest.raises(InsufficientGold, match="needs 1000 gold"):
        services.deliver_capacity("1", 1, 0, uow)
    assert audit(uow)["gold"] == 100


def test_a_capacity_delivery_adds_units_and_charges_gold(uow):
    rich = uow
    with rich:  # give the shop gold through a correcting transaction, as an adjustment would
        rich.ledger.add(
            ledger.transfer("correction", "test gold", [(ledger.WORLD, ledger.SHOP, ledger.GOLD, 2000)]), None, None
        )
        rich.commit()
    services.deliver_capacity("1", 1, 1, rich)
    assert audit(rich)["gold"] == 100
    services.deliver_bottles("1", [], rich)
    stock = inventory.Inventory.from_balances(rich.ledger.balances(ledger.SHOP))
    assert (stock.potion_limit, stock.ml_limit) == (100, 20_000)


def test_visits_are_recorded_once(uow):
    services.record_visit("v1", [ALICE], uow)
    services.record_visit("v1", [ALICE], uow)
    assert [v[0] for v in uow.store.visits] == ["v1"]


def sell_setup(uow, potions=5):
    services.deliver_barrels("b", [SMALL_RED], uow)
    services.deliver_bottles("b", [(RED_POTION, potions)], uow)


def new_cart(uow, customer: Customer = ALICE) -> int:
    return json.loads(services.create_cart(customer, None, uow).body)["cart_id"]


def test_a_checkout_sells_at_the_catalog_price(uow):
    sell_setup(uow)
    cart_id = new_cart(uow)
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow)
    reply = services.checkout(cart_id, "coins", uow)
    assert reply.status == 200
    assert reply.body == b'{"total_potions_bought":2,"total_gold_paid":100}'
    assert audit(uow) == {"number_of_potions": 3, "ml_in_barrels": 0, "gold": 100}


def test_a_retried_checkout_sells_once_and_replays_the_same_bytes(uow):
    sell_setup(uow)
    cart_id = new_cart(uow)
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow)
    first = services.checkout(cart_id, "coins", uow)
    again = services.checkout(cart_id, "coins", uow)
    assert again.body == first.body and again.replayed
    assert audit(uow)["number_of_potions"] == 3


def test_item_quantities_are_set_not_added(uow):
    sell_setup(uow)
    cart_id = new_cart(uow)
    services.set_item_quantity(cart_id, "RED_POTION", 4, None, uow)
    services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow)
    assert services.checkout(cart_id, "coins", uow).body == b'{"total_potions_bought":1,"total_gold_paid":50}'


def test_a_checkout_is_all_or_nothing(uow):
    sell_setup(uow, potions=2)
    cart_id = new_cart(uow)
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow)
    services.set_item_quantity(cart_id, "GREEN_POTION", 1, None, uow)
    with pytest.raises(InsufficientStock, match="GREEN_POTION"):
        services.checkout(cart_id, "coins", uow)
    assert audit(uow)["number_of_potions"] == 2
    services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow)  # still open: nothing was closed


def test_a_checked_out_cart_takes_no_more_items(uow):
    sell_setup(uow)
    cart_id = new_cart(uow)
    services.checkout(cart_id, "coins", uow)
    with pytest.raises(CartClosed):
        services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow)


def test_unknown_carts_and_skus_are_refused(uow):
    with pytest.raises(CartNotFound):
        services.set_item_quantity(99, "RED_POTION", 1, None, uow)
    with pytest.raises(CartNotFound):
        services.checkout(99, "coins", uow)
    cart_id = new_cart(uow)
    with pytest.raises(UnknownSku, match="NOPE"):
        services.set_item_quantity(cart_id, "NOPE", 1, None, uow)


def test_a_cart_created_with_a_key_is_created_once(uow):
    first = services.create_cart(ALICE, "k1", uow)
    again = services.create_cart(ALICE, "k1", uow)
    assert again.body == first.body == b'{"cart_id":1}'
    assert len(uow.store.carts) == 1
    assert services.create_cart(ALICE, None, uow).body == b'{"cart_id":2}'


def test_reset_brings_the_shop_back_to_its_start_and_closes_open_carts(uow):
    sell_setup(uow)
    cart_id = new_cart(uow)
    services.reset(None, uow)
    assert audit(uow) == {"number_of_potions": 0, "ml_in_barrels": 0, "gold": 100}
    with pytest.raises(CartClosed):
        services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow)
    assert [t.kind for t in uow.transactions()][-1] == "reset"  # appended: history stays
    assert len(uow.transactions()) == 4


def test_keys_survive_a_reset(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    services.reset(None, uow)
    assert services.deliver_barrels("1", [SMALL_RED], uow).replayed
    assert audit(uow)["gold"] == 100


def test_transactions_are_stamped_with_the_game_time(uow):
    services.set_time("Bloomday", 14, None, uow)
    services.deliver_barrels("1", [SMALL_RED], uow)
    assert uow.store.transactions[-1].game_time.day == "Bloomday"
    posted = uow.store.transactions[-1]
    assert (posted.request_route, posted.request_key) == ("barrels/deliver", "1")


def test_the_catalog_lists_at_most_six_potions_in_stock(uow):
    assert views.catalog(uow) == []
    services.deliver_barrels("1", [barrel(ml=10_000, price=0, potion_type=(0.25, 0.25, 0.25, 0.25))], uow)
    mixes = [
        (PotionType(100, 0, 0, 0), 1),
        (PotionType(0, 100, 0, 0), 2),
        (PotionType(0, 0, 100, 0), 3),
        (PotionType(0, 0, 0, 100), 4),
        (PotionType(50, 0, 50, 0), 5),
        (PotionType(50, 50, 0, 0), 6),
        (PotionType(0, 50, 50, 0), 7),
    ]
    services.deliver_bottles("1", mixes, uow)
    catalog = views.catalog(uow)
    assert len(catalog) == 6
    assert [item["quantity"] for item in catalog] == [7, 6, 5, 4, 3, 2]
    assert catalog[0] == {
        "sku": "TEAL_POTION",
        "name": "Teal Potion",
        "quantity": 7,
        "price": 55,
        "potion_type": [0, 50, 50, 0],
    }


def test_plans_change_nothing(uow):
    services.deliver_barrels("1", [SMALL_RED], uow)
    before = list(uow.store.transactions)
    assert services.plan_barrels(WHOLESALE, uow) == []  # no gold left
    assert views.bottler_plan(uow) == [{"potion_type": [100, 0, 0, 0], "quantity": 2}]  # a trial batch: nothing known
    assert views.capacity_plan(uow) == {"potion_capacity": 0, "ml_capacity": 0}
    assert uow.store.transactions == before and uow.store.shelves == []


def test_each_tick_the_shelf_is_planned_and_the_catalog_and_checkout_use_its_prices(uow):
    services.correct("shop/potion:GREEN_POTION", 3, "stock", "g", uow)
    services.set_time("Edgeday", 2, None, uow)
    ((tick, shelf),) = uow.store.shelves
    assert tick == 0 and shelf.chosen == ("RED_POTION", "GREEN_POTION", "BLUE_POTION", "DARK_POTION")  # poor: pure
    assert set(shelf.prices) == {p.sku for p in uow.store.potions}
    price = shelf.prices["GREEN_POTION"]
    assert views.catalog(uow) == [
        {"sku": "GREEN_POTION", "name": "Green Potion", "quantity": 3, "price": price, "potion_type": [0, 100, 0, 0]}
    ]
    services.record_visit("v1", [ALICE], uow)
    assert [row[1:] for row in uow.store.shown] == [("GREEN_POTION", price, 3)]  # what the visit was shown
    cart_id = json.loads(services.create_cart(ALICE, None, uow).body)["cart_id"]
    services.set_item_quantity(cart_id, "GREEN_POTION", 2, None, uow)
    assert json.loads(services.checkout(cart_id, "gold", uow).body) == {
        "total_potions_bought": 2,
        "total_gold_paid": 2 * price,
    }
    services.set_time("Edgeday", 4, None, uow)
    assert len(uow.store.shelves) == 2  # a shelf a tick


def test_following_the_plans_never_gets_refused(uow):
    """A shop that does what its planners say, tick after tick, is never refused and never overdraws."""
    for tick in range(30):
        plan = services.plan_barrels(WHOLESALE, uow)
        by_sku = {b.sku: b for b in WHOLESALE}
        bought = [
            barrel(s, by_sku[s].ml_per_barrel, by_sku[s].potion_type, by_sku[s].price, k)
            for s, k in ((p["sku"], p["quantity"]) for p in plan)
        ]
        services.deliver_barrels(f"b{tick}", bought, uow)
        mixes = [(PotionType.of(m["potion_type"]), m["quantity"]) for m in views.bottler_plan(uow)]
        services.deliver_bottles(f"p{tick}", mixes, uow)
        for item in views.catalog(uow)[:2]:
            cart_id = new_cart(uow)
            services.set_item_quantity(cart_id, item["sku"], item["quantity"], None, uow)
            services.checkout(cart_id, "coins", uow)
        capacity = views.capacity_plan(uow)
        services.deliver_capacity(f"c{tick}", capacity["potion_capacity"], capacity["ml_capacity"], uow)
    assert audit(uow)["gold"] > 100


# --- postings that move nothing ------------------------------------------------------------------------------------


def test_an_empty_delivery_is_answered_but_books_no_transaction(uow):
    booked = len(uow.transactions())
    for order, barrels in (("empty", []), ("none-bought", [barrel(quantity=0)])):
        reply = services.deliver_barrels(order, barrels, uow)
        assert reply.status == 204 and uow.committed
    assert services.deliver_bottles("empty", [], uow).status == 204
    assert services.deliver_capacity("empty", 0, 0, uow).status == 204
    assert len(uow.transactions()) == booked
    assert services.deliver_barrels("empty", [], uow).replayed  # the reply is still kept


def test_checking_out_an_empty_cart_closes_it_and_books_nothing(uow):
    cart_id = json.loads(services.create_cart(ALICE, None, uow).body)["cart_id"]
    reply = services.checkout(cart_id, "gold", uow)
    assert json.loads(reply.body) == {"total_potions_bought": 0, "total_gold_paid": 0}
    assert uow.transactions("sale") == []
    with pytest.raises(CartClosed):
        services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow)


def test_resetting_a_shop_that_is_as_it_started_books_nothing(uow):
    booked = len(uow.transactions())
    assert services.reset(None, uow).status == 204
    assert len(uow.transactions()) == booked
