"""The services on fakes, in the services' own terms."""

import json
from collections.abc import Callable
from dataclasses import replace

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
    ShopError,
    UnknownPotionType,
    UnknownSku,
)
from domain.potions import PotionType
from service_layer import services, views
from service_layer.idempotency import ProcessedRequest, Reply, RequestAlreadyProcessed, RequestKey, Scope
from service_layer.unit_of_work import BooksMoved
from tests.fakes import (
    FakeLedgerRepository,
    FakeProcessedRequests,
    FakeSalesRepository,
    FakeStore,
    FakeUnitOfWork,
)
from tests.helpers import ALICE, NEW_SHOP, SMALL_GREEN, SMALL_RED, WHOLESALE, barrel

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
    with uow:
        assert views.barrel_plan(WHOLESALE, uow) == []  # no gold left
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
        plan = views.barrel_plan(WHOLESALE, uow)
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


def test_balances_now_and_at_a_moment_count_every_entry_of_an_account_in_one_transaction(uow):
    """Two mixes of one potion are two entries on one account in one transaction: both count (the fake summed only
    the last of them for a past moment once)."""
    services.deliver_barrels("1", [SMALL_RED], uow)
    services.deliver_bottles("1", [(RED_POTION, 1), (RED_POTION, 2)], uow)
    (bottling,) = uow.transactions("bottling")
    assert audit(uow)["number_of_potions"] == 3
    assert views.audit(bottling.created_at, uow)["number_of_potions"] == 3


class TwinCommitsFirst(FakeUnitOfWork):
    """PostgreSQL's case where the reply is written with the COMMIT: a twin with the same key commits between this
    request's claim and its commit, and the unique key refuses ours there."""

    twin_reply = Reply(204)

    def commit(self) -> None:
        key = next(iter(self.work.processed.keys() - self.store.processed.keys()))
        self.store.processed[key] = ProcessedRequest(key, self.work.processed[key].fingerprint, self.twin_reply)
        raise RequestAlreadyProcessed(key)


def test_a_key_a_twin_took_before_the_commit_answers_with_the_twins_reply_and_nothing_of_ours(uow):
    racing = TwinCommitsFirst(uow.store)
    reply = services.deliver_barrels("7", [SMALL_RED], racing)
    assert reply == replace(TwinCommitsFirst.twin_reply, replayed=True)
    assert audit(uow) == NEW_SHOP  # our purchase was rolled back with our reply


class WritesCheckTheRules(FakeLedgerRepository):
    """PostgreSQL's posting path on the fake: asked not to look, it hands out no balances; the write checks the
    domain's rules under its locks (`cauldrons_post`) and raises `BooksMoved` if they fail; `append` waits for the
    commit."""

    def __init__(self, store: FakeStore, looks: list[bool], appended: list[Callable[[], object]]) -> None:
        super().__init__(store)
        self.looks, self.appended = looks, appended

    def balances_to_check(self, accounts=(), whole_shop=True, look=True):  # type: ignore[no-untyped-def]
        self.looks.append(look)
        return super().balances_to_check(accounts, whole_shop) if look else None

    def _add(self, txn, game_time, request, capacity):  # type: ignore[no-untyped-def]
        try:
            inventory.check_covers(txn, self.lock((e.account for e in txn.entries), capacity), capacity)
        except ShopError as refused:
            raise BooksMoved(str(refused)) from refused
        return super()._add(txn, game_time, request, capacity)

    def append(self, txn, clock, request, capacity=False):  # type: ignore[no-untyped-def]
        self.posted += 1
        self.appended.append(lambda: self._add(txn, clock.now(), request, capacity))  # the clock as written


class SalesWithTheCommit(FakeSalesRepository):
    def __init__(self, store: FakeStore, appended: list[Callable[[], object]]) -> None:
        super().__init__(store)
        self.appended = appended

    def add(self, lines, sale):  # type: ignore[no-untyped-def]
        self.appended.append(lambda: super(SalesWithTheCommit, self).add(lines, sale))


class PostsUnchecked(FakeUnitOfWork):
    """PostgreSQL's unit of work on the fakes: postings unchecked, appended ones and sale lines written at commit."""

    def _begin(self) -> None:
        super()._begin()
        self.looks: list[bool] = getattr(self, "looks", [])
        self.appended: list[Callable[[], object]] = []
        self.ledger = WritesCheckTheRules(self.work, self.looks, self.appended)
        self.sales = SalesWithTheCommit(self.work, self.appended)

    def commit(self) -> None:
        for write in self.appended:
            write()
        super().commit()


def test_a_posting_the_write_checks_goes_unchecked_and_the_domain_looks_only_after_a_refusal(uow):
    sell_setup(uow, potions=1)
    sold, short = new_cart(uow), new_cart(uow)
    for cart_id in (sold, short):
        services.set_item_quantity(cart_id, "RED_POTION", 1, None, uow)
    unchecked = PostsUnchecked(uow.store)
    assert services.checkout(sold, "gold", unchecked).status == 200
    assert unchecked.looks == [False]  # accepted by the write: the balances were never read
    (sale,) = uow.transactions("sale")
    assert [(s.line.cart_id, s.transaction_id) for s in uow.store.sales] == [(sold, sale.id)]  # stamped with it
    refused = PostsUnchecked(uow.store)
    with pytest.raises(InsufficientStock, match="RED_POTION"):  # the domain's refusal, not the write's
        services.checkout(short, "gold", refused)
    assert refused.looks == [False, True]  # refused unchecked, then run again, the domain looking first
    assert audit(uow)["number_of_potions"] == 0 and RequestKey(Scope.CHECKOUT, str(short)) not in uow.requests()


def test_a_delivery_refused_at_the_commit_is_run_again_and_refused_by_the_domain_leaving_nothing(uow):
    refused = PostsUnchecked(uow.store)
    with pytest.raises(InsufficientCapacity, match="ml"):
        services.deliver_barrels("big", [barrel(ml=10_001, price=0)], refused)
    assert refused.looks == [False, True]
    assert audit(uow) == NEW_SHOP and RequestKey("barrels/deliver", "big") not in uow.requests()
    delivered = PostsUnchecked(uow.store)
    services.deliver_barrels("small", [SMALL_RED], delivered)  # appended, written with the commit
    assert delivered.looks == [False] and audit(uow)["ml_in_barrels"] == SMALL_RED.ml_per_barrel


class GuessingRequests(FakeProcessedRequests):
    """PostgreSQL's claims on the fakes: asked to guess, a key is taken to be new without a look; recording a reply
    for a key that was taken is refused (the unique constraint, at the commit)."""

    guesses = True

    def __init__(self, store: FakeStore, claims: list[bool]) -> None:
        super().__init__(store)
        self.claims = claims

    def claim(self, key, guess=False):  # type: ignore[no-untyped-def]
        self.claims.append(guess)
        return None if guess else super().claim(key)


class GuessesKeys(PostsUnchecked):
    def _begin(self) -> None:
        super()._begin()
        self.claims: list[bool] = getattr(self, "claims", [])
        self.processed_requests = GuessingRequests(self.work, self.claims)


def test_a_first_attempt_guesses_its_key_new_and_a_taken_key_is_found_at_the_commit(uow):
    first = services.deliver_barrels("7", [SMALL_RED], uow)
    retry = GuessesKeys(uow.store)
    assert services.deliver_barrels("7", [SMALL_RED], retry) == replace(first, replayed=True)
    assert retry.claims == [True, False]  # guessed, refused at the commit, then claimed: the reply stands
    assert audit(uow)["gold"] == 100 - SMALL_RED.price  # paid once
    fresh = GuessesKeys(uow.store)
    services.deliver_barrels("8", [barrel(price=0)], fresh)
    assert fresh.claims == [True]  # a new key is never looked up


def test_a_refusal_is_checked_against_the_key_so_a_retried_checkout_is_replayed(uow):
    sell_setup(uow)
    cart_id = new_cart(uow)
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow)
    first = services.checkout(cart_id, "gold", uow)
    retry = GuessesKeys(uow.store)  # the cart is checked out already: the guessed attempt is refused (CartClosed)
    assert services.checkout(cart_id, "gold", retry) == replace(first, replayed=True)
    assert retry.claims == [True, False]
    with pytest.raises(IdempotencyKeyReused):  # a changed payload is still refused, once the key is claimed
        services.checkout(cart_id, "mithril", GuessesKeys(uow.store))
    assert len(uow.transactions("sale")) == 1


def test_a_refusal_is_the_answer_once_the_key_is_found_unprocessed_and_leaves_nothing(uow):
    sell_setup(uow, potions=1)
    short, closed = new_cart(uow), new_cart(uow)
    services.set_item_quantity(short, "RED_POTION", 2, None, uow)
    refused = GuessesKeys(uow.store)
    with pytest.raises(InsufficientStock):
        services.checkout(short, "gold", refused)
    # guessed and refused by the write; guessed again, the domain looking first, and refused; the key then
    # found unprocessed: the domain's refusal
    assert refused.claims == [True, True, False] and refused.looks == [False, True]
    services.reset(None, uow)  # closes the open carts
    refused = GuessesKeys(uow.store)
    with pytest.raises(CartClosed):  # refused by the domain on the guess; the key is then found unprocessed
        services.checkout(closed, "gold", refused)
    assert refused.claims == [True, False]  # one attempt, then the key found unprocessed
    assert not {RequestKey(Scope.CHECKOUT, str(c)) for c in (short, closed)} & set(uow.requests())
    assert not uow.transactions("sale")


def test_a_refusal_caused_by_a_twin_committing_between_attempts_is_answered_with_the_twins_reply(uow):
    """The client's retry reaches another worker and succeeds while the first request is between attempts: no
    claim makes the twin wait, so the first request's next attempt finds the cart checked out, and must answer with
    the twin's reply, not 409."""
    sell_setup(uow, potions=1)
    cart_id = new_cart(uow)
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, uow)
    twin: list[Reply] = []

    class TwinSellsMeanwhile(GuessingRequests):
        def claim(self, key, guess=False):  # type: ignore[no-untyped-def]
            found = super().claim(key, guess)
            if self.claims == [True, True]:  # the second attempt is under way: stock arrives, the twin sells
                services.correct("shop/potion:RED_POTION", 1, "more stock", "more", FakeUnitOfWork(uow.store))
                twin.append(services.checkout(cart_id, "gold", GuessesKeys(uow.store)))
                self.store.__dict__.update(uow.store.copy().__dict__)  # this attempt reads what the twin committed
            return found

    class Racing(GuessesKeys):
        def _begin(self) -> None:
            super()._begin()
            self.processed_requests = TwinSellsMeanwhile(self.work, self.claims)

    first = Racing(uow.store)
    assert services.checkout(cart_id, "gold", first) == replace(twin[0], replayed=True)
    assert first.claims == [True, True, False] and twin[0].status == 200
    assert len(uow.transactions("sale")) == 1
