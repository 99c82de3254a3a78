"""The PostgreSQL posting functions of migrations 0006, 0007, 0010 and 0014, on their own: each waits for the lock it
takes and then reads what the holder committed; `cauldrons_post` accepts and refuses what the domain does."""

from __future__ import annotations

import json
import threading
import time
from datetime import datetime
from unittest.mock import patch

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import create_engine, exc, text

from adapters.postgres import BooksMoved, PgLedgerRepository
from domain import inventory, ledger
from domain.errors import InsufficientStock, ShopError
from domain.potions import DEFAULT_POTIONS, Barrel
from service_layer import services, views
from tests.helpers import ALICE, SMALL_RED

LATER = datetime(2030, 1, 1)  # after anything the shop wrote, so the raw entries keep each account's time order


@pytest.fixture
def engine(pg_url):  # type: ignore[no-untyped-def]
    from cauldrons.bootstrap import bootstrap
    from cauldrons.config import Config

    wiring = bootstrap(Config(pg_url, "k"))
    services.deliver_barrels("1", [SMALL_RED], wiring.uow_factory())
    wiring.engine.dispose()
    engine = create_engine(pg_url)
    yield engine
    engine.dispose()


def test_lock_returns_the_accounts_balances_and_with_the_whole_shop_every_shop_account(engine):
    with engine.connect() as conn:
        gold = conn.execute(text("SELECT id FROM accounts WHERE owner = 'suppliers' AND commodity = 'gold'")).scalar()
        own = conn.execute(
            text("SELECT owner, commodity, balance FROM cauldrons_lock(ARRAY[:id]::bigint[], false)"), {"id": gold}
        ).all()
        whole = conn.execute(
            text("SELECT owner, commodity, balance FROM cauldrons_lock(ARRAY[:id]::bigint[], true)"), {"id": gold}
        ).all()
    assert [tuple(r) for r in own] == [("suppliers", "gold", 100)]
    assert ("suppliers", "gold", 100) in [tuple(r) for r in whole]
    assert {(o, c, b) for o, c, b in whole if o == "shop"} >= {("shop", "gold", 0), ("shop", "ml:red", 500)}


def test_lock_holds_the_rows_and_a_waiter_reads_the_balance_the_holder_committed(engine):
    with engine.connect() as holder, engine.connect() as other:
        holder.execute(text("SELECT * FROM cauldrons_lock(ARRAY[]::bigint[], true)"))  # every shop account
        with pytest.raises(exc.OperationalError, match="could not obtain lock"):
            other.execute(text("SELECT id FROM accounts WHERE owner = 'shop' FOR UPDATE NOWAIT"))
        other.rollback()
        seen: list[int] = []

        def waiter() -> None:
            with engine.connect() as conn:
                rows = conn.execute(text("SELECT commodity, balance FROM cauldrons_lock(ARRAY[]::bigint[], true)"))
                seen.extend(b for c, b in rows if c == "ml:red")

        waiting = threading.Thread(target=waiter)
        waiting.start()
        time.sleep(0.3)
        assert seen == []  # waiting for the holder's locks
        # the holder moves 1 ml of red from the world to the shop, and commits
        ids = dict(holder.execute(text("SELECT owner, id FROM accounts WHERE commodity = 'ml:red'")).all())
        txn = holder.execute(
            text(
                "INSERT INTO account_transactions (created_at, kind, description) "
                "VALUES (:at, 'test', 'one ml') RETURNING id"
            ),
            {"at": LATER},
        ).scalar_one()
        holder.execute(
            text(
                "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, "
                "balance_after, created_at, non_negative) VALUES (:shop, :t, 1, 501, :at, true), "
                "(:world, :t, -1, -1, :at, false)"
            ),
            {"shop": ids["shop"], "world": ids["world"], "t": txn, "at": LATER},
        )
        holder.commit()
        waiting.join(10)
    assert seen == [501]


# --- cauldrons_post (migration 0007): the write re-checks the domain's rules under its locks -----------------------

colours = st.sampled_from([(1.0, 0.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.5, 0.5, 0.0, 0.0)])
barrel_buys = st.lists(
    st.builds(
        Barrel,
        sku=st.just("B"),
        ml_per_barrel=st.sampled_from([500, 2500, 10_000]),
        potion_type=colours,
        price=st.integers(0, 120),
        quantity=st.integers(1, 3),
    ),
    min_size=1,
    max_size=2,
)
recipes = st.sampled_from([(p.sku, p.potion_type) for p in DEFAULT_POTIONS[:3]])
postings = st.one_of(
    barrel_buys.map(ledger.barrel_purchase),
    st.lists(st.tuples(recipes, st.integers(1, 40)), min_size=1, max_size=2).map(
        lambda mixes: ledger.bottling([(sku, recipe, q) for (sku, recipe), q in mixes])
    ),
    st.tuples(recipes, st.integers(1, 30), st.integers(0, 60)).map(
        lambda line: ledger.sale(1, [(line[0][0], line[1], line[2])], "gold")
    ),
    st.tuples(st.integers(0, 1), st.integers(0, 1)).map(lambda units: ledger.capacity_purchase(*units)),
    st.tuples(st.sampled_from([ledger.GOLD, ledger.ML["red"], ledger.POTION_CAPACITY]), st.integers(-600, 600))
    .filter(lambda c: c[1] != 0)
    .map(lambda c: ledger.correction(ledger.AccountRef(ledger.SHOP, c[0]), c[1], "property")),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(txns=st.lists(postings, min_size=1, max_size=8))
def test_the_sql_path_accepts_and_refuses_what_the_domain_does_with_the_same_balances(pg_url, txns):
    """Random postings, unchecked, straight to `cauldrons_post`, against the domain's check on a copy of the
    balances: the same accepted, the same refused (40001), the same balances after. Each example is rolled back."""
    wiring = _shop(pg_url)
    uow = wiring.uow_factory()
    with uow:
        # Opened before the first savepoint: an account opened inside one would vanish with its rollback.
        uow.ledger.lock({e.account for txn in txns for e in txn.entries}, whole_shop=False)
        balances = uow.ledger.balances()
        for txn in (t for t in txns if t.entries):
            capacity = txn.kind != "correction"
            try:
                inventory.check_covers(txn, balances, capacity)
                domain_accepts = True
            except ShopError:
                domain_accepts = False
            savepoint = uow.connection.begin_nested()
            try:
                posted = uow.ledger.post(txn, None, capacity=capacity)  # unchecked: the function checks
                savepoint.commit()
                sql_accepts = True
            except BooksMoved:
                savepoint.rollback()
                sql_accepts = False
            assert sql_accepts == domain_accepts, txn
            if domain_accepts:
                balances = inventory.apply(balances, txn)
                assert {e.account: e.balance_after for e in posted.entries} == {a: balances[a] for a in txn.changes()}
        assert uow.ledger.balances() == {a: n for a, n in balances.items()}


_wirings: dict[str, object] = {}


def _shop(url: str):  # type: ignore[no-untyped-def]
    """One wiring per database for all of a property test's examples (each rolls back what it wrote)."""
    from cauldrons.bootstrap import bootstrap
    from cauldrons.config import Config

    if url not in _wirings:
        _wirings[url] = bootstrap(Config(url, "k"))
    return _wirings[url]


def test_a_posting_the_database_refuses_under_its_locks_is_run_again_and_refused_by_the_domain(pg_url):
    """A sale goes unchecked to its write with the potion in stock; before it writes, another posting sells that
    potion. Under its lock the database finds the stock short (40001); the service runs the use case again, the
    domain looking at the balances first, and the client gets the domain's 409, with nothing kept."""
    from cauldrons.bootstrap import bootstrap
    from cauldrons.config import Config

    wiring = bootstrap(Config(pg_url, "k"))
    services.correct("shop/potion:RED_POTION", 2, "two in stock", "stock", wiring.uow_factory())
    carts = [json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"] for _ in range(3)]
    for cart_id in carts:
        services.set_item_quantity(cart_id, "RED_POTION", 1, None, wiring.uow_factory())
    # A first sale opens the customers' accounts (the twin below, in this same thread, would otherwise wait for
    # the attempt's uncommitted opening of them).
    services.checkout(carts.pop(), "gold", wiring.uow_factory())

    real_arguments = PgLedgerRepository._arguments
    raced, looks = [], []

    def post_then_lose_the_race(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        looks.append(self.look_first)
        if len(looks) == 1:  # the first attempt is on its way to its write; now a twin sells the one potion
            raced.append(services.checkout(carts[1], "gold", wiring.uow_factory()))
        return real_arguments(self, *args, **kwargs)

    with patch.object(PgLedgerRepository, "_arguments", post_then_lose_the_race):
        with pytest.raises(InsufficientStock):
            services.checkout(carts[0], "gold", wiring.uow_factory())
    assert raced[0].status == 200
    # first attempt, the twin (both unchecked), then the first again: its write found the books moved, and it ran
    # again, checked by the domain on the balances as they were
    assert looks == [False, False, True]
    audit = views.audit(None, wiring.uow_factory())
    assert audit["number_of_potions"] == 0 and audit["gold"] == 100 + 2 * 50
    wiring.engine.dispose()


POST_NOW = (
    "SELECT * FROM cauldrons_post_now(:at, 'correction', 'stock', 'ledger/corrections', :key, "
    "ARRAY[(SELECT id FROM accounts WHERE owner = 'shop' AND commodity = 'potion:RED_POTION'), "
    "(SELECT id FROM accounts WHERE owner = 'adjustments' AND commodity = 'potion:RED_POTION')]::bigint[], "
    "ARRAY[2, -2]::bigint[], false, 50, 10000)"
)
STAMPED = "SELECT game_day, game_hour FROM account_transactions WHERE request_key = :key"


def test_post_now_stamps_the_posting_with_the_latest_tick_as_it_writes(engine):
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO accounts (owner, commodity) VALUES ('adjustments', 'potion:RED_POTION')"))
        conn.execute(text("INSERT INTO accounts (owner, commodity) VALUES ('shop', 'potion:RED_POTION')"))
        (untimed,) = conn.execute(text(POST_NOW), {"at": LATER, "key": "before-any-tick"}).all()
        conn.execute(
            text("INSERT INTO game_clock (day, hour, created_at) VALUES ('Soulday', 4, now()), ('Edgeday', 6, now())")
        )
        (timed,) = conn.execute(text(POST_NOW), {"at": LATER, "key": "after"}).all()
        stamps = [conn.execute(text(STAMPED), {"key": k}).one() for k in ("before-any-tick", "after")]
    assert untimed.balances == [2, -2] and timed.balances == [4, -4]  # cauldrons_post's own answer
    assert stamps == [(None, None), ("Edgeday", 6)]


SALE = (
    "SELECT cauldrons_sale_lines('carts/checkout', :key, ARRAY[:cart]::bigint[], ARRAY['RED_POTION'], "
    "ARRAY['red potion'], ARRAY['1 red potion'], ARRAY[1], ARRAY[50], ARRAY[50]::bigint[], ARRAY['c1'], "
    "ARRAY['Alice'], ARRAY['Wizard'], ARRAY['Elf'], ARRAY[7])"
)


def test_sale_lines_are_stamped_with_the_transaction_their_key_posted_and_refused_without_one(engine):
    with engine.begin() as conn:
        cart = conn.execute(
            text(
                "INSERT INTO carts (customer_id, customer_name, character_class, character_species, level, status, "
                "created_at) VALUES ('c1', 'Alice', 'Wizard', 'Elf', 7, 'checked_out', now()) RETURNING cart_id"
            )
        ).scalar_one()
        sale = conn.execute(
            text(
                "INSERT INTO account_transactions (created_at, kind, description, game_day, game_hour, request_route,"
                " request_key) VALUES (:at, 'sale', 'a sale', 'Edgeday', 6, 'carts/checkout', :key) RETURNING id"
            ),
            {"at": LATER, "key": str(cart)},
        ).scalar_one()
        assert conn.execute(text(SALE), {"key": str(cart), "cart": cart}).scalar_one() == 1
        line = conn.execute(
            text("SELECT account_transaction_id, created_at, game_day, game_hour, total FROM sale_lines")
        ).one()
    assert tuple(line) == (sale, LATER, "Edgeday", 6, 50)
    with engine.connect() as conn, pytest.raises(exc.IntegrityError, match="posted no transaction"):
        conn.execute(text(SALE), {"key": "never-posted", "cart": cart})
