"""Repositories on real SQLite and PostgreSQL databases."""

import pytest
from sqlalchemy import event, exc, func, select

from adapters import orm
from adapters.postgres import KeyTaken
from cauldrons.bootstrap import unit_of_work
from domain import ledger
from domain.carts import Cart
from domain.clock import GameTime
from domain.ledger import GOLD, SHOP, AccountRef
from service_layer.idempotency import Reply, RequestKey
from tests.helpers import ALICE, SMALL_RED


def test_a_transaction_and_its_entries_are_stored_and_summed(wiring):
    with wiring.uow_factory() as uow:
        before = uow.ledger.balances(SHOP)
        uow.clock.set(GameTime("Edgeday", 2))
        uow.ledger.post(ledger.barrel_purchase([SMALL_RED]), RequestKey("barrels/deliver", "1"))
        after = uow.ledger.balances(SHOP)
        uow.commit()
    assert before[AccountRef(SHOP, GOLD)] == 100 and after[AccountRef(SHOP, GOLD)] == 0
    assert after[AccountRef(SHOP, ledger.ML["red"])] == 500
    with wiring.uow_factory() as uow:
        assert uow.ledger.balances(ledger.SUPPLIERS) == {
            AccountRef(ledger.SUPPLIERS, GOLD): 100,
            AccountRef(ledger.SUPPLIERS, ledger.ML["red"]): -500,
        }


def test_locking_returns_the_shops_balances_and_the_named_accounts(wiring):
    customers_gold = AccountRef(ledger.CUSTOMERS, GOLD)
    with wiring.uow_factory() as uow:
        assert uow.ledger.lock([customers_gold]) == {**uow.ledger.balances(SHOP), customers_gold: 0}


def test_accounts_are_opened_on_first_use(wiring):
    txn = ledger.transfer("correction", "a new potion", [(ledger.BOTTLING, SHOP, ledger.potion("NEW_POTION"), 3)])
    with wiring.uow_factory() as uow:
        uow.ledger.add(txn, None)
        uow.commit()
    with wiring.uow_factory() as uow:
        assert uow.ledger.balances(SHOP)[AccountRef(SHOP, ledger.potion("NEW_POTION"))] == 3


def test_a_stored_reply_is_claimed_byte_for_byte(wiring):
    key = RequestKey("carts", "k")
    with wiring.uow_factory() as uow:
        assert uow.processed_requests.get(key) is None
        uow.processed_requests.add(key, "fp", Reply.json({"cart_id": 1}), moved=False)
        uow.commit()
    with unit_of_work(wiring.engine) as uow:  # knowing no replies yet: it reads the stored one
        earlier = uow.processed_requests.stored(key)
    assert earlier is not None
    assert earlier.replay("fp") == Reply(200, b'{"cart_id":1}', "application/json", replayed=True)


def test_a_key_can_be_recorded_once(wiring):
    key = RequestKey("carts", "k")
    with wiring.uow_factory() as uow:
        uow.processed_requests.add(key, "fp", Reply.empty(), moved=False)
        uow.commit()
    # refused by the unique key, at once or with the commit (PostgreSQL: as the key taken, which a use case replays)
    with wiring.uow_factory() as uow, pytest.raises((exc.IntegrityError, KeyTaken)):
        uow.processed_requests.add(key, "fp", Reply.empty(), moved=False)
        uow.commit()
    with unit_of_work(wiring.engine) as uow:  # and the connection it failed on serves the next (a database read)
        assert uow.processed_requests.stored(key) is not None


def test_the_same_key_on_another_route_is_another_request(wiring):
    with wiring.uow_factory() as uow:
        uow.processed_requests.add(RequestKey("barrels/deliver", "7"), "fp", Reply.empty(), moved=False)
        uow.processed_requests.add(RequestKey("bottler/deliver", "7"), "fp", Reply.empty(), moved=False)
        uow.commit()


def _cart_of_two_lines(wiring) -> Cart:  # type: ignore[no-untyped-def]
    """A cart added at Soulday 22:00 with 2 red and 1 blue potion, committed."""
    with wiring.uow_factory() as uow:
        cart = Cart(ALICE)
        uow.carts.add(cart, GameTime("Soulday", 22))
        cart.set_quantity("RED_POTION", 2)
        cart.set_quantity("BLUE_POTION", 1)
        uow.commit()
    return cart


def test_a_cart_and_its_lines_round_trip(wiring):
    cart_id = _cart_of_two_lines(wiring).cart_id
    assert isinstance(cart_id, int)
    with wiring.uow_factory() as uow:
        loaded = uow.carts.get(cart_id)
        assert loaded is not None and loaded.customer == ALICE and loaded.is_open
        assert [(line.sku, line.quantity) for line in loaded.lines] == [("RED_POTION", 2), ("BLUE_POTION", 1)]
        loaded.set_quantity("RED_POTION", 5)
        loaded.check_out("coins")
        uow.commit()
    with wiring.uow_factory() as uow:
        loaded = uow.carts.get(cart_id)
        assert loaded.status == "checked_out" and loaded.payment == "coins"
        assert {line.sku: line.quantity for line in loaded.lines} == {"RED_POTION": 5, "BLUE_POTION": 1}
        assert uow.carts.get(cart_id + 1000) is None


def _statements(engine):  # type: ignore[no-untyped-def]
    """A list, and a `before_cursor_execute` listener that appends the first word of every statement to it (of each
    statement in a batch: PostgreSQL's writes go with the COMMIT)."""
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        seen.extend(s.split(None, 1)[0].upper() for s in statement.split(";") if s.strip())

    return seen, record


def test_a_cart_is_written_back_only_where_it_changed(wiring):
    cart = _cart_of_two_lines(wiring)
    seen, record = _statements(wiring.engine)
    event.listen(wiring.engine, "before_cursor_execute", record)
    try:
        with wiring.uow_factory() as uow:
            uow.carts.get(cart.cart_id)
            seen.clear()
            uow.commit()  # read, unchanged: nothing to write
        assert [s for s in seen if s in ("INSERT", "UPDATE", "DELETE")] == []
        with wiring.uow_factory() as uow:
            loaded = uow.carts.get(cart.cart_id)
            loaded.lines = [line for line in loaded.lines if line.sku != "RED_POTION"]  # a line the domain dropped
            loaded.set_quantity("GREEN_POTION", 4)
            seen.clear()
            uow.commit()
        assert sorted(s for s in seen if s in ("INSERT", "UPDATE", "DELETE")) == ["DELETE", "INSERT"]
    finally:
        event.remove(wiring.engine, "before_cursor_execute", record)
    with wiring.uow_factory() as uow:
        loaded = uow.carts.get(cart.cart_id)
        assert [(line.sku, line.quantity) for line in loaded.lines] == [("BLUE_POTION", 1), ("GREEN_POTION", 4)]
    with wiring.engine.connect() as conn:
        c = orm.carts
        assert conn.execute(select(c.c.game_day, c.c.game_hour).where(c.c.cart_id == cart.cart_id)).one() == (
            "Soulday",
            22,
        )


def test_a_cart_asked_for_twice_in_a_unit_of_work_is_one_object(wiring):
    cart_id = _cart_of_two_lines(wiring).cart_id
    with wiring.uow_factory() as uow:
        first = uow.carts.get(cart_id)
        first.set_quantity("RED_POTION", 7)
        again = uow.carts.get(cart_id)
        assert again is first and {line.sku: line.quantity for line in again.lines}["RED_POTION"] == 7
        uow.commit()
    with wiring.uow_factory() as uow:
        assert {line.sku: line.quantity for line in uow.carts.get(cart_id).lines}["RED_POTION"] == 7


def test_a_cart_changed_but_not_committed_is_not_written(wiring):
    with wiring.uow_factory() as uow:
        cart = Cart(ALICE)
        uow.carts.add(cart)
        uow.commit()
    with wiring.uow_factory() as uow:
        uow.carts.get(cart.cart_id).set_quantity("RED_POTION", 3)  # and no commit
    with wiring.uow_factory() as uow:
        assert uow.carts.get(cart.cart_id).lines == []


def test_closing_open_carts_leaves_checked_out_ones_alone(wiring):
    with wiring.uow_factory() as uow:
        open_cart, sold = Cart(ALICE), Cart(ALICE)
        uow.carts.add(open_cart)
        uow.carts.add(sold)
        sold.check_out("coins")
        uow.commit()
    with wiring.uow_factory() as uow:
        assert uow.carts.close_open_carts() == 1
        uow.commit()
    with wiring.uow_factory() as uow:
        assert uow.carts.get(open_cart.cart_id).status == "closed"
        assert uow.carts.get(sold.cart_id).status == "checked_out"


def test_potions_come_from_the_seeded_table(wiring):
    with wiring.uow_factory() as uow:
        red = uow.potions.get("RED_POTION")
        assert red is not None and red.potion_type.as_list() == [100, 0, 0, 0]
        assert uow.potions.by_type(red.potion_type) == red
        assert uow.potions.get("NOPE") is None


def test_the_clock_answers_the_latest_tick(wiring):
    with wiring.uow_factory() as uow:
        assert uow.clock.now() is None
        uow.clock.set(GameTime("Edgeday", 0))
        uow.clock.set(GameTime("Edgeday", 2))
        uow.commit()
    with wiring.uow_factory() as uow:
        assert uow.clock.now() == GameTime("Edgeday", 2)


def test_visits_are_stored_with_their_customers(wiring):
    with wiring.uow_factory() as uow:
        uow.visits.add("v1", [ALICE, ALICE], GameTime("Edgeday", 4))
        uow.commit()
    with wiring.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(orm.visit_customers)).scalar_one() == 2
