"""Racing requests on real databases: one effect per key, and no balance check can be raced."""

import json
import threading
import time
from dataclasses import replace

import pytest
from sqlalchemy import event, func, select, text

from adapters import orm
from cauldrons.bootstrap import unit_of_work
from domain.errors import InsufficientStock
from domain.potions import PotionType
from service_layer import services, views
from service_layer.idempotency import Reply
from tests.concurrency import race
from tests.helpers import ALICE, SMALL_RED, barrel


def _worker(wiring, where: str):  # type: ignore[no-untyped-def]
    """A unit of work on this worker (sharing the replies it knows), or as on a worker of its own."""
    return wiring.uow_factory() if where == "same worker" else unit_of_work(wiring.engine)


@pytest.mark.parametrize("where", ["same worker", "other workers"])
def test_sixteen_racing_twins_of_a_delivery_take_effect_once(wiring, where):
    results = race([lambda: services.deliver_barrels("42", [SMALL_RED], _worker(wiring, where))] * 16)
    assert all(isinstance(r, Reply) for r in results), results
    assert sorted(r.replayed for r in results) == [False] + [True] * 15
    assert {(r.status, r.body) for r in results} == {(204, b"")}
    assert views.audit(None, wiring.uow_factory()) == {"number_of_potions": 0, "ml_in_barrels": 500, "gold": 0}
    with wiring.engine.connect() as conn:
        posted = conn.execute(
            select(func.count())
            .select_from(orm.account_transactions)
            .where(orm.account_transactions.c.request_key == "42")
        ).scalar_one()
    assert posted == 1


def test_eight_racing_twins_of_a_checkout_on_other_workers_sell_once_and_answer_the_same_bytes(wiring):
    """Each twin guesses its key new: one sells; the others find the cart checked out, and claiming the key then
    finds the seller's reply, which is their answer rather than the refusal."""
    services.correct("shop/potion:RED_POTION", 2, "stock", "stock", wiring.uow_factory())
    cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, wiring.uow_factory())
    results = race([lambda: services.checkout(cart_id, "gold", _worker(wiring, "other workers"))] * 8)
    assert all(isinstance(r, Reply) for r in results), results
    assert sorted(r.replayed for r in results) == [False] + [True] * 7
    assert {(r.status, r.body) for r in results} == {(200, b'{"total_potions_bought":2,"total_gold_paid":100}')}
    assert views.audit(None, wiring.uow_factory())["gold"] == 200


def test_racing_checkouts_never_oversell(wiring):
    services.deliver_barrels("b", [SMALL_RED], wiring.uow_factory())
    services.deliver_bottles("b", [(PotionType(100, 0, 0, 0), 3)], wiring.uow_factory())
    carts = []
    for _ in range(6):
        cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
        services.set_item_quantity(cart_id, "RED_POTION", 1, None, wiring.uow_factory())
        carts.append(cart_id)
    results = race([lambda c=c: services.checkout(c, "coins", wiring.uow_factory()) for c in carts])
    sold = [r for r in results if isinstance(r, Reply)]
    refused = [r for r in results if isinstance(r, InsufficientStock)]
    assert (len(sold), len(refused)) == (3, 3), results
    assert views.audit(None, wiring.uow_factory()) == {"number_of_potions": 0, "ml_in_barrels": 200, "gold": 150}


def test_racing_deliveries_with_different_keys_never_overspend(wiring):
    results = race(
        [lambda i=i: services.deliver_barrels(f"o{i}", [barrel(price=30)], wiring.uow_factory()) for i in range(8)]
    )
    assert sum(isinstance(r, Reply) for r in results) == 3  # 100 gold buys three 30-gold barrels
    assert views.audit(None, wiring.uow_factory())["gold"] == 10


def test_resets_corrections_and_deliveries_racing_never_deadlock_and_keep_the_books_sound(wiring):
    from adapters.verification import verify
    from domain.errors import ShopError

    services.deliver_barrels("seed", [barrel(price=10, quantity=4)], wiring.uow_factory())
    calls = []
    for i in range(4):
        calls += [
            lambda i=i: services.reset(None, wiring.uow_factory()),
            lambda i=i: services.deliver_barrels(f"d{i}", [barrel(price=1)], wiring.uow_factory()),
            lambda i=i: services.deliver_bottles(f"b{i}", [(PotionType(100, 0, 0, 0), 1)], wiring.uow_factory()),
            lambda i=i: services.correct("world/gold", 5, "found", f"c{i}", wiring.uow_factory()),
        ]
    results = race(calls)
    assert all(isinstance(r, Reply | ShopError) for r in results), results  # no deadlock, no database error
    with wiring.engine.connect() as conn:
        assert verify(conn).ok


def test_a_reset_opens_no_account_while_holding_the_shops_locks(wiring, monkeypatch):
    """An interleaving that could deadlock: while a reset reads the shop's accounts, a first bottling opens
    shop/potion:RED_POTION; after the reset has locked, a correction opens world/potion:RED_POTION and waits for
    the shop's locks. The reset must then post without opening that account itself."""
    import threading
    import time

    from sqlalchemy import text

    from adapters.postgres import PgLedgerRepository

    if wiring.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no interleaving to make")
    services.correct("shop/ml:red", 500, "to bottle", "ml", wiring.uow_factory())
    others: list[object] = []
    phase = ["reset reads"]
    balances, lock = PgLedgerRepository.balances, PgLedgerRepository.lock

    def balances_then_bottle(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        found = balances(self, *args, **kwargs)
        if phase[0] == "reset reads":
            phase[0] = "bottling"
            services.deliver_bottles("first", [(PotionType(100, 0, 0, 0), 1)], wiring.uow_factory())
            phase[0] = "reset locks"
        return found

    def lock_then_race(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        held = lock(self, *args, **kwargs)
        if phase[0] == "reset locks":
            phase[0] = "reset posts"
            others.append(
                threading.Thread(
                    target=lambda: others.append(
                        services.correct(
                            "world/potion:RED_POTION",
                            1,
                            "race",
                            "race",
                            wiring.uow_factory(),
                        )
                    )
                )
            )
            others[0].start()
            with wiring.engine.connect() as conn:
                while not conn.execute(
                    text(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                        "AND datname = current_database()"
                    )
                ).scalar():
                    conn.rollback()
                    time.sleep(0.01)
        return held

    monkeypatch.setattr(PgLedgerRepository, "balances", balances_then_bottle)
    monkeypatch.setattr(PgLedgerRepository, "lock", lock_then_race)
    assert services.reset(None, wiring.uow_factory()).status == 204
    others[0].join(30)
    assert isinstance(others[-1], Reply) and others[-1].status == 200


def _open_cart_with(wiring, quantity: int) -> int:  # type: ignore[no-untyped-def]
    cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", quantity, None, wiring.uow_factory())
    return int(cart_id)


def test_a_checkout_that_waited_for_its_cart_sells_the_lines_committed_meanwhile(wiring):
    if wiring.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no interleaving to make")
    services.correct("shop/potion:RED_POTION", 5, "stock", "stock", wiring.uow_factory())
    cart_id = _open_cart_with(wiring, 1)
    answers: list[object] = []
    with wiring.engine.connect() as other:  # another request holds the cart and changes its line to 3
        other.execute(text("SELECT cart_id FROM carts WHERE cart_id = :c FOR UPDATE"), {"c": cart_id})
        other.execute(text("UPDATE cart_items SET quantity = 3 WHERE cart_id = :c"), {"c": cart_id})
        checkout = threading.Thread(
            target=lambda: answers.append(services.checkout(cart_id, "gold", wiring.uow_factory()))
        )
        checkout.start()
        time.sleep(0.3)  # the checkout now waits for the cart's lock
        other.commit()
        checkout.join(10)
    assert json.loads(answers[0].body) == {"total_potions_bought": 3, "total_gold_paid": 150}  # type: ignore[attr-defined]


def test_racing_updates_of_a_new_cart_line_all_succeed(wiring):
    cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
    results = race(
        [
            lambda q=q: services.set_item_quantity(cart_id, "RED_POTION", q, None, wiring.uow_factory())
            for q in (1, 2, 3, 4)
        ]
    )
    assert all(isinstance(r, Reply) and r.status == 204 for r in results), results


def test_a_checkout_refused_because_its_twin_sold_meanwhile_answers_with_the_twins_reply(wiring):
    """No attempt claims its key in the database, so nothing makes a twin wait: the client's retry, on another
    worker, may sell while the first request is between attempts. The first then finds its cart checked out, and
    answers with the twin's reply, not a 409."""
    if wiring.engine.dialect.name != "postgresql":
        pytest.skip("SQLite runs one writer at a time: there is no interleaving to make")
    services.correct("shop/potion:RED_POTION", 1, "stock", "stock", wiring.uow_factory())
    cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, wiring.uow_factory())  # one short: refused at first
    first_worker = _worker(wiring, "other workers")
    twin: list[Reply] = []
    carts_read = 0

    def between_attempts(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        nonlocal carts_read
        carts_read += "cauldrons_cart" in statement
        if carts_read == 2:  # the second attempt is about to read its cart: stock arrives, and the twin sells
            carts_read += 1  # once
            services.correct("shop/potion:RED_POTION", 1, "more stock", "more", wiring.uow_factory())
            twin.append(services.checkout(cart_id, "gold", _worker(wiring, "other workers")))

    event.listen(first_worker.engine, "before_cursor_execute", between_attempts)
    try:
        reply = services.checkout(cart_id, "gold", first_worker)
    finally:
        event.remove(first_worker.engine, "before_cursor_execute", between_attempts)
    assert twin[0].status == 200 and reply == replace(twin[0], replayed=True)
    assert views.audit(None, wiring.uow_factory())["number_of_potions"] == 0  # sold once
