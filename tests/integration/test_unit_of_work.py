"""The unit of work on real databases: commit keeps, everything else discards."""

import json
import time
from dataclasses import replace

import pytest
from sqlalchemy import create_engine, event, exc, func, select, text
from sqlalchemy.pool import NullPool

from adapters import db, orm, postgres
from adapters.processed_requests import KnownReplies
from cauldrons.bootstrap import unit_of_work
from domain import ledger
from domain.clock import GameTime
from domain.errors import IdempotencyKeyReused, InsufficientCapacity, InsufficientGold
from domain.sales import SaleLine, SearchQuery
from service_layer import services
from service_layer.idempotency import ProcessedRequest, Reply, RequestKey
from service_layer.unit_of_work import DatabaseUnavailable
from tests.helpers import ALICE, SMALL_RED, barrel


def count(wiring, table) -> int:  # type: ignore[no-untyped-def]
    with wiring.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def gold(wiring) -> int:  # type: ignore[no-untyped-def]
    with wiring.uow_factory() as uow:
        return uow.ledger.balances(ledger.SHOP)[ledger.AccountRef(ledger.SHOP, ledger.GOLD)]


def test_a_committed_unit_of_work_persists(wiring):
    with wiring.uow_factory() as uow:
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), None)
        uow.commit()
    assert gold(wiring) == 0


def test_an_uncommitted_unit_of_work_is_rolled_back(wiring):
    with wiring.uow_factory() as uow:
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), None)
    assert gold(wiring) == 100


def test_a_crash_between_the_ledger_write_and_the_commit_leaves_nothing(wiring):
    transactions, entries = count(wiring, orm.account_transactions), count(wiring, orm.account_ledger_entries)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), wiring.uow_factory() as uow:
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), RequestKey("barrels/deliver", "1"))
        uow.processed_requests.add(RequestKey("barrels/deliver", "1"), "fp", Reply.empty(), moved=True)
        raise Crash
    assert (count(wiring, orm.account_transactions), count(wiring, orm.account_ledger_entries)) == (
        transactions,
        entries,
    )
    assert count(wiring, orm.processed_requests) == 1  # only the opening's
    services.deliver_barrels("1", [SMALL_RED], wiring.uow_factory())  # the key was never taken
    assert gold(wiring) == 0


def test_a_lost_connection_before_commit_leaves_nothing(wiring):
    uow = wiring.uow_factory()
    with uow:
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), None)
        uow.connection.invalidate()  # the process holding it dies: the server rolls back
    assert gold(wiring) == 100


def test_a_refused_request_leaves_no_trace(wiring):
    before = [count(wiring, t) for t in (orm.account_transactions, orm.processed_requests, orm.accounts)]
    with pytest.raises(InsufficientGold):
        services.deliver_barrels("1", [barrel(quantity=2)], wiring.uow_factory())
    assert [count(wiring, t) for t in (orm.account_transactions, orm.processed_requests, orm.accounts)] == before


def test_the_shop_opens_once_however_often_it_is_booted(wiring):
    from cauldrons.bootstrap import bootstrap
    from cauldrons.config import Config

    again = bootstrap(Config(wiring.engine.url.render_as_string(hide_password=False)))
    again.engine.dispose()
    assert gold(wiring) == 100
    with wiring.engine.connect() as conn:
        kinds = conn.execute(select(orm.account_transactions.c.kind)).scalars().all()
    assert kinds == ["opening"]


@pytest.mark.parametrize("idle", [True, False])
def test_a_pooled_connection_is_pinged_only_after_sitting_idle(pg_url, monkeypatch, idle):
    """The server drops a pooled connection (a restart, an idle timeout). Reused after sitting idle, it is pinged,
    found dead and replaced before anyone uses it; reused at once (under load), it is not pinged, so the request on
    it fails and the pool replaces it for the next."""
    monkeypatch.setattr(postgres, "IDLE_PING_AFTER", 0.2 if idle else 3600)
    engine = db.make_engine(pg_url)
    try:
        with engine.connect() as conn:
            pid = conn.execute(text("SELECT pg_backend_pid()")).scalar()
        with create_engine(pg_url, poolclass=NullPool).connect() as other:
            other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
        time.sleep(0.3)
        if idle:
            with engine.connect() as conn:
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        else:
            with pytest.raises(exc.OperationalError), engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            with engine.connect() as conn:  # the pool noticed and replaced it
                assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != pid
    finally:
        engine.dispose()


def test_a_database_that_cannot_be_reached_or_has_no_connection_free_is_unavailable(wiring):
    if wiring.engine.dialect.name != "postgresql":
        pytest.skip("SQLite is a file: there is no server to be down")
    down = db.make_engine("postgresql+psycopg2://postgres@127.0.0.1:1/shop")  # nothing listens on port 1
    with pytest.raises(DatabaseUnavailable, match="Connection refused"), unit_of_work(down):
        pass
    down.dispose()
    url = wiring.engine.url.render_as_string(hide_password=False)
    busy = db.make_engine(url, pool_size=1, max_overflow=0, pool_timeout=0.1)
    with busy.connect(), pytest.raises(DatabaseUnavailable, match="busy"), unit_of_work(busy):
        pass
    busy.dispose()


def _postgres_only(wiring) -> None:  # type: ignore[no-untyped-def]
    if wiring.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's own path: SQLite runs in-process, with no round trips, each write as it is made")


def _one_connection(wiring):  # type: ignore[no-untyped-def]
    """A unit-of-work factory on one pooled connection, as a busy worker's: the accounts' ids it learns stay known,
    so a test sees the round trips of steady state."""
    engine = db.make_engine(wiring.engine.url.render_as_string(hide_password=False), pool_size=1, max_overflow=0)
    known = KnownReplies()
    return engine, lambda: unit_of_work(engine, known)


def _sent(wiring, action, engine=None):  # type: ignore[no-untyped-def]
    """What `action` sent to the database (through `engine`, the wiring's by default), a round trip each, as a
    connection that knows the accounts' ids sends it: the lookup of account ids, made once per pooled connection
    (and accounts opened on first use), is left out, and a BEGIN that went with it is put on the next statement."""
    engine = engine if engine is not None else wiring.engine
    sent: list[str] = []
    begin = False

    def listener(_conn, _cursor, statement, *_):  # type: ignore[no-untyped-def]
        nonlocal begin
        lookup = statement.removeprefix("BEGIN;").startswith(("SELECT accounts.id", "INSERT INTO accounts"))
        if lookup:
            begin = begin or statement.startswith("BEGIN;")
        else:
            sent.append(("BEGIN;" if begin else "") + statement)
            begin = False

    event.listen(engine, "before_cursor_execute", listener)
    try:
        action()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return sent


def test_on_postgres_a_checkout_begins_with_its_first_statement_and_commits_with_its_last_writes(wiring):
    _postgres_only(wiring)
    services.correct("shop/potion:RED_POTION", 3, "stock", "stock", wiring.uow_factory())
    services.set_time("Bloomday", 9, None, wiring.uow_factory())
    cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 2, None, wiring.uow_factory())
    services.correct("shop/potion:BLUE_POTION", 1, "stock", "blue", wiring.uow_factory())
    services.set_item_quantity(cart_id, "BLUE_POTION", 1, None, wiring.uow_factory())
    sent = _sent(wiring, lambda: services.checkout(cart_id, "gold", wiring.uow_factory()))
    # the key guessed new (no claim); the cart (with BEGIN); then, in one round trip: the reply (whose key the unique
    # constraint settles) and the cart, which only this request's twins wait on; the posting (the database checks
    # the rules under its locks, and reads the game's time: no snapshot and no clock read first); the sale stamped
    # with it; COMMIT. The posting's locks are held for the end of that round trip alone.
    assert len(sent) == 2, sent
    assert sent[0].startswith("BEGIN;SELECT * FROM cauldrons_cart")
    parts = sent[1].split(";")
    assert [p.split("(")[0] for p in parts] == [
        "INSERT INTO processed_requests ",
        f"UPDATE carts SET status='checked_out', payment='gold' WHERE carts.cart_id = {cart_id}",
        "SELECT * FROM cauldrons_post_now",
        "SELECT cauldrons_sale_lines",  # its two lines in one call: the rollups run once
        "COMMIT",
    ], parts
    with wiring.uow_factory() as uow:
        assert uow.ledger.balances(ledger.SHOP)[ledger.AccountRef(ledger.SHOP, ledger.potion("RED_POTION"))] == 1
        (sale,) = [t for t in uow.ledger.history(limit=5) if t.kind == "sale"]
        lines = uow.sales.search(SearchQuery(), None, 10)
    assert sale.game_time == GameTime("Bloomday", 9)  # read by the posting as it was written
    assert sorted((s.line.sku, s.transaction_id, s.sold_at, s.game_time) for s in lines) == [
        ("BLUE_POTION", sale.id, sale.created_at, sale.game_time),
        ("RED_POTION", sale.id, sale.created_at, sale.game_time),
    ]


def test_on_postgres_a_delivery_is_one_round_trip_and_a_retry_on_another_worker_is_replayed(wiring):
    _postgres_only(wiring)
    services.set_time("Bloomday", 10, None, wiring.uow_factory())
    engine, worker = _one_connection(wiring)
    other_engine, other_worker = _one_connection(wiring)  # a connection and a set of known replies of its own
    services.correct("shop/gold", 4, "a tip", "tip", worker())
    for uow_factory, orders in ((worker, ("0", "1")), (other_worker, ("o0", "o1"))):
        for order in orders:  # the first opens the suppliers' accounts; the second learns their ids
            services.deliver_barrels(order, [barrel(price=1)], uow_factory())
    first: list[Reply] = []
    sent = _sent(wiring, lambda: first.append(services.deliver_barrels("2", [SMALL_RED], worker())), engine)
    # the whole transaction in one message, which PostgreSQL runs as one implicit transaction: no BEGIN, no COMMIT
    (batch,) = sent
    assert [p.split("(")[0] for p in batch.split(";")] == [
        "INSERT INTO processed_requests ",
        "SELECT * FROM cauldrons_post_now",
    ], batch
    assert gold(wiring) == 0
    with wiring.uow_factory() as uow:
        (delivery, *_) = uow.ledger.history(limit=1)
    assert (delivery.kind, delivery.request_key) == ("barrel_purchase", "2")
    assert delivery.game_time == GameTime("Bloomday", 10)  # read by the posting as it was written
    # its replay where the reply is known (this process committed it): nothing is sent at all
    assert _sent(wiring, lambda: services.deliver_barrels("2", [SMALL_RED], worker()), engine) == []
    # and where it is not (another worker): the guessed attempt finds the key taken at its commit, and a read of the
    # stored reply, outside any transaction, finds it: the same bytes, paid once
    replays: list[Reply] = []
    replay = _sent(
        wiring, lambda: replays.append(services.deliver_barrels("2", [SMALL_RED], other_worker())), other_engine
    )
    assert [s.split(" ")[:5] for s in replay] == [
        ["INSERT", "INTO", "processed_requests", "(route,", "key,"],  # refused: the key is taken; nothing is left open
        [
            "SELECT",
            "processed_requests.fingerprint,",
            "processed_requests.status,",
            "processed_requests.body,",
            "processed_requests.content_type",
        ],
    ], replay
    assert replays == [replace(first[0], replayed=True)]
    assert gold(wiring) == 0 and count(wiring, orm.account_transactions) == 7  # opening, tip, five deliveries
    engine.dispose()
    other_engine.dispose()


def test_a_delivery_the_database_refuses_at_the_commit_gets_the_domains_refusal_and_leaves_nothing(wiring):
    """Past the ml capacity: on PostgreSQL the posting goes unchecked with the commit, `cauldrons_post` refuses it
    under its locks, and the use case runs again with the domain looking first; SQLite checks at once."""

    engine, worker = _one_connection(wiring)

    def deliver_too_much() -> None:
        with pytest.raises(InsufficientCapacity, match="ml"):
            services.deliver_barrels("big", [barrel(ml=10_001, price=0)], worker())

    for order in ("0", "1"):  # the first opens the supplier's account; the second learns its id
        services.deliver_barrels(order, [barrel(price=0)], worker())
    transactions = count(wiring, orm.account_transactions)
    sent = _sent(wiring, deliver_too_much, engine)
    if wiring.engine.dialect.name == "postgresql":  # refused unchecked at the commit, then looked at and refused
        assert [s.split("(")[0] for s in sent] == [
            "INSERT INTO processed_requests ",  # the key guessed new; the posting, refused: nothing is left open
            "BEGIN;SELECT * FROM cauldrons_snapshot",  # the domain looks, and refuses
            "ROLLBACK",
            "SELECT processed_requests.fingerprint, processed_requests.status, processed_requests.body, "
            "processed_requests.content_type \nFROM processed_requests \nWHERE processed_requests.route = %",
        ], sent
    assert count(wiring, orm.account_transactions) == transactions
    assert gold(wiring) == 100 and count(wiring, orm.processed_requests) == 3  # the opening's key, "0" and "1"
    services.deliver_barrels("big", [SMALL_RED], worker())  # the key was never taken
    assert gold(wiring) == 0
    engine.dispose()


def test_on_postgres_the_game_time_a_transaction_set_holds_for_it_and_a_new_one_reads_the_clock(wiring):
    _postgres_only(wiring)  # on SQLite the unit of work holds the write lock: no other request moves the clock
    services.set_time("Bloomday", 9, None, wiring.uow_factory())
    with wiring.uow_factory() as uow:
        assert uow.clock.now() == GameTime("Bloomday", 9)
        uow.clock.set(GameTime("Bloomday", 11))
        services.set_time("Bloomday", 12, None, wiring.uow_factory())  # another request moves the clock on
        assert uow.clock.now() == GameTime("Bloomday", 11)  # what this transaction set
        uow.commit()
        assert uow.clock.now() == GameTime("Bloomday", 12)  # a new transaction reads it


def test_on_postgres_the_pool_gets_every_connection_back_idle_and_out_of_autocommit(wiring):
    _postgres_only(wiring)

    class Crash(Exception):
        pass

    with pytest.raises(Crash), wiring.uow_factory() as uow:  # a transaction begun, then abandoned
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), None)
        raw = uow.connection.connection.dbapi_connection
        assert raw.autocommit
        raise Crash
    with pytest.raises(Crash), wiring.uow_factory() as uow:  # a key claimed (and locked), then abandoned
        assert uow.processed_requests.get(RequestKey("barrels/deliver", "abandoned")) is None
        raise Crash
    with wiring.uow_factory() as uow:  # one that only read
        uow.ledger.balances(ledger.SHOP)
    with wiring.uow_factory() as uow:  # and one committed
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), None)
        uow.commit()
    assert not raw.autocommit  # migrations and reports take the pool's connections as the driver made them
    with wiring.engine.connect() as conn:
        stuck = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND state LIKE 'idle in transaction%'"
            )
        ).scalar_one()
        keys = conn.execute(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory'")).scalar_one()
    assert (stuck, keys) == (0, 0)
    assert gold(wiring) == 0  # the committed purchase, once


def test_a_reply_this_process_committed_is_replayed_from_memory_and_a_changed_payload_still_refused(wiring):
    """Stored replies never change (the table refuses UPDATE, DELETE and TRUNCATE): a retry is answered from the
    replies the process knows, with nothing sent to the database, byte for byte and with its fingerprint checked."""
    first = services.deliver_barrels("known", [SMALL_RED], wiring.uow_factory())
    replays: list[Reply] = []
    sent = _sent(wiring, lambda: replays.append(services.deliver_barrels("known", [SMALL_RED], wiring.uow_factory())))
    assert sent == [] and replays == [replace(first, replayed=True)]
    with pytest.raises(IdempotencyKeyReused):
        services.deliver_barrels("known", [barrel(price=1)], wiring.uow_factory())
    assert gold(wiring) == 0  # delivered once


def test_known_replies_keep_the_latest_ones_used():
    known = KnownReplies(size=2)
    a, b, c = (ProcessedRequest(RequestKey("barrels/deliver", k), "fp", Reply(204)) for k in "abc")
    known.add(a)
    known.add(b)
    assert known.get(a.key) == a  # used: now the latest
    known.add(c)
    assert (known.get(a.key), known.get(b.key), known.get(c.key)) == (a, None, c)


def test_a_write_refused_at_the_commit_takes_the_posting_and_the_reply_with_it(wiring):
    """Both or neither: the sale lines and the reply go with the COMMIT on PostgreSQL (at once on SQLite); one the
    database refuses there (a line of a cart that does not exist) leaves nothing of the unit of work."""
    key = RequestKey("barrels/deliver", "refused-at-commit")
    before = count(wiring, orm.processed_requests)
    with pytest.raises(exc.IntegrityError), wiring.uow_factory() as uow:
        uow.ledger.add(ledger.barrel_purchase([SMALL_RED]), key)
        uow.processed_requests.add(key, "fp", Reply.empty(), moved=True)
        uow.sales.add([SaleLine(10**9, "RED_POTION", "red potion", 1, 50, ALICE)], key)
        uow.commit()
    assert gold(wiring) == 100 and count(wiring, orm.processed_requests) == before
    services.deliver_barrels("refused-at-commit", [SMALL_RED], wiring.uow_factory())  # the key is free, the pool sound
    assert gold(wiring) == 0


def test_on_postgres_the_writes_sent_with_the_commit_keep_their_text_in_any_client_encoding(wiring):
    _postgres_only(wiring)
    latin = db.make_engine(
        wiring.engine.url.render_as_string(hide_password=False), connect_args={"client_encoding": "LATIN1"}
    )
    try:
        first = services.create_cart(ALICE, "Ã©-key", unit_of_work(latin))
        other = services.create_cart(ALICE, "é-key", unit_of_work(latin))
    finally:
        latin.dispose()
    assert other.body != first.body  # two keys, two carts
    again = services.create_cart(ALICE, "Ã©-key", wiring.uow_factory())  # read back over UTF-8
    assert (again.replayed, again.body) == (True, first.body)


def test_on_postgres_a_unit_of_work_on_a_read_only_engine_reads_one_snapshot(wiring):
    _postgres_only(wiring)
    reports = db.make_engine(wiring.engine.url.render_as_string(hide_password=False), read_only=True)
    try:
        with unit_of_work(reports) as uow:
            uow.ledger.balances(ledger.SHOP)
            assert uow.connection.exec_driver_sql("SHOW transaction_isolation").scalar() == "repeatable read"
    finally:
        reports.dispose()
