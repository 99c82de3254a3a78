"""The database itself refuses to break the ledger's rules: each test tries with raw SQL, past the repositories."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, exc, select, text

from adapters import migrations, orm
from adapters.db import make_engine
from adapters.repositories import SqlClock, SqlLedgerRepository
from adapters.verification import verify
from adapters.writes import Writes
from domain import ledger
from domain.ledger import SHOP, AccountRef
from domain.potions import PotionType
from service_layer import services
from tests.helpers import ALICE, SMALL_RED, barrel

CHEAP_RED = barrel(price=10)

APPEND_ONLY = ("accounts", "account_transactions", "account_ledger_entries", "processed_requests", "sale_lines")
T0 = datetime(2030, 1, 1)  # later than anything the shop wrote, so the raw entries below stay in time order


def _account(conn: Connection, owner: str, commodity: str) -> int:
    conn.execute(text("INSERT INTO accounts (owner, commodity) VALUES (:o, :c)"), {"o": owner, "c": commodity})
    return conn.execute(
        text("SELECT id FROM accounts WHERE owner = :o AND commodity = :c"), {"o": owner, "c": commodity}
    ).scalar_one()


def _transaction(conn: Connection, at: datetime = T0) -> int:
    return conn.execute(
        text(
            "INSERT INTO account_transactions (created_at, kind, description) VALUES (:at, 'test', 'raw') RETURNING id"
        ),
        {"at": at},
    ).scalar_one()


def _entry(
    conn: Connection,
    account_id: int,
    txn_id: int,
    change: int,
    balance_after: int,
    non_negative: bool = False,
    at: datetime = T0,
) -> None:
    conn.execute(
        text(
            "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, balance_after,"
            " created_at, non_negative) VALUES (:a, :t, :c, :b, :at, :n)"
        ),
        {"a": account_id, "t": txn_id, "c": change, "b": balance_after, "at": at, "n": non_negative},
    )


def _entries(conn: Connection, txn_id: int, *moves: tuple[int, int], at: datetime = T0) -> None:
    """(account id, change) entries of one transaction, in one statement, each its account's first (and not the
    shop's)."""
    conn.execute(
        text(
            "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, balance_after,"
            " created_at, non_negative) SELECT column1, :t, column2, column2, :at, false FROM (VALUES "
            + ", ".join(f"({a}, {c})" for a, c in moves)
            + ") AS m"
        ),
        {"t": txn_id, "at": at},
    )


@pytest.fixture
def conn(wiring):  # type: ignore[no-untyped-def]
    """A raw connection to a shop that has some history (opening, a barrel, a bottling, a sale)."""
    services.deliver_barrels("b1", [SMALL_RED], wiring.uow_factory())
    services.deliver_bottles("b1", [(PotionType(100, 0, 0, 0), 2)], wiring.uow_factory())
    cart_id = json.loads(services.create_cart(ALICE, None, wiring.uow_factory()).body)["cart_id"]
    services.set_item_quantity(cart_id, "RED_POTION", 1, None, wiring.uow_factory())
    services.checkout(cart_id, "gold", wiring.uow_factory())
    with wiring.engine.connect() as connection:
        yield connection


@pytest.mark.parametrize("table", APPEND_ONLY)
@pytest.mark.parametrize("statement", ["UPDATE {table} SET id = id", "DELETE FROM {table}"])
def test_append_only_tables_refuse_updates_and_deletes(conn, table, statement):
    with pytest.raises(exc.DBAPIError, match="append-only"):
        conn.execute(text(statement.format(table=table)))
    conn.rollback()
    assert conn.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar_one() > 0


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_tables_refuse_truncate_on_postgres(conn, table):
    if conn.dialect.name != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    with pytest.raises(exc.DBAPIError, match="append-only"):
        conn.execute(text(f"TRUNCATE {table} CASCADE"))


def _balanced(conn: Connection, account: int, txn: int, change: int, at: datetime = T0) -> None:
    """`change` on `account` (a new gold-test account), balanced by a new counter-account, in one statement."""
    _entries(conn, txn, (account, change), (_account(conn, "adjustments", "gold-test"), -change), at=at)


def test_an_entry_must_carry_its_accounts_running_balance(conn):
    account = _account(conn, "world", "gold-test")
    txn = _transaction(conn)
    _balanced(conn, account, txn, 5)
    with pytest.raises(exc.DBAPIError, match="balance_after"):
        _entry(conn, account, txn, -3, 1)  # 5 - 3 is 2


def test_an_accounts_time_cannot_go_back(conn):
    account = _account(conn, "world", "gold-test")
    _balanced(conn, account, _transaction(conn), 5)
    earlier = T0 - timedelta(seconds=1)
    with pytest.raises(exc.DBAPIError, match="time order|older"):
        _entry(conn, account, _transaction(conn, earlier), 1, 6, at=earlier)


def test_a_shop_balance_cannot_go_below_zero(conn):
    account = _account(conn, SHOP, "gold-test")
    with pytest.raises(exc.IntegrityError, match="ck_account_ledger_entries_non_negative|CHECK constraint"):
        _entry(conn, account, _transaction(conn), -1, -1, non_negative=True)


def test_an_entry_cannot_shed_its_accounts_non_negative_flag(conn):
    account = _account(conn, SHOP, "gold-test")
    with pytest.raises(exc.IntegrityError, match="non_negative must say"):
        _entry(conn, account, _transaction(conn), -1, -1, non_negative=False)


def test_postgres_refuses_a_statement_that_leaves_a_transaction_unbalanced(wiring):
    if wiring.engine.dialect.name != "postgresql":
        pytest.skip(
            "SQLite has no statement triggers with transition tables; the domain model and `ledger verify` "
            "cover it there"
        )
    with wiring.engine.connect() as conn:
        world, suppliers = _account(conn, "world", "gold-test"), _account(conn, "suppliers", "gold-test")
        txn = _transaction(conn)
        with pytest.raises(exc.IntegrityError, match=f"transaction {txn} does not net to zero"):
            _entry(conn, world, txn, 5, 5)  # refused at once, not at commit
        conn.rollback()
    with wiring.engine.connect() as conn:  # a balanced transaction goes in whole, in one statement
        world, suppliers = _account(conn, "world", "gold-test"), _account(conn, "suppliers", "gold-test")
        txn = _transaction(conn)
        _entries(conn, txn, (world, 5), (suppliers, -5))
        conn.commit()
        with pytest.raises(exc.IntegrityError, match=f"transaction {txn} does not net to zero"):
            _entry(conn, world, txn, 1, 6, at=T0 + timedelta(seconds=1))  # nor can an old one be unbalanced later


def test_verify_passes_on_books_the_shop_wrote(conn):
    report = verify(conn)
    assert report.ok, report.lines()
    assert report.counts["transactions"] == 4 and report.counts["entries"] > 0 and report.counts["sale lines"] == 1


def _without_guards(conn: Connection) -> None:
    """Switch the triggers off, as only someone with the database's owner rights could."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SET session_replication_role = replica"))
    else:
        for table in APPEND_ONLY:
            conn.execute(text(f"DROP TRIGGER {table}_no_update"))
        conn.execute(text("DROP TRIGGER account_ledger_entries_running_balance"))


def _drifted(conn: Connection) -> set[str]:
    return {f.check.name for f in verify(conn).findings if not f.ok}


def test_verify_finds_a_sale_lines_customer_the_order_search_would_not_match(conn):
    name = conn.execute(text("SELECT customer_name FROM sale_lines LIMIT 1")).scalar_one()
    conn.execute(text("DELETE FROM sale_customer_names WHERE customer_name = :n"), {"n": name})
    assert _drifted(conn) == {"customer_names"}


def test_verify_finds_an_entry_edited_behind_the_ledgers_back(conn):
    _without_guards(conn)
    conn.execute(
        text(
            "UPDATE account_ledger_entries SET change = change + 7 WHERE id = "
            "(SELECT MAX(id) FROM account_ledger_entries)"
        )
    )
    assert _drifted(conn) == {"balanced", "running_balances"}


def test_verify_finds_a_shop_balance_that_went_negative_and_a_doubled_request(conn):
    _without_guards(conn)
    gold = conn.execute(text("SELECT id FROM accounts WHERE owner = 'shop' AND commodity = 'gold'")).scalar_one()
    conn.execute(text("UPDATE account_ledger_entries SET change = change - 1000 WHERE account_id = :a"), {"a": gold})
    conn.execute(
        text(
            "INSERT INTO account_transactions (created_at, kind, description, request_route, request_key) "
            "VALUES (:at, 'barrel_purchase', 'twin', 'barrels/deliver', 'b1')"
        ),
        {"at": T0},
    )
    assert {"never_negative", "one_transaction_per_request", "answered_as_booked"} <= _drifted(conn)


def test_balances_at_past_moments_are_the_sums_up_to_then(wiring):
    moments, expected = [], []
    for order in ("1", "2", "3"):
        with wiring.uow_factory() as uow:
            moments.append(uow.ledger.history(limit=1)[0].created_at)
            expected.append(uow.ledger.balances(SHOP))
        services.deliver_barrels(order, [CHEAP_RED], wiring.uow_factory())
    with wiring.uow_factory() as uow:
        for moment, balances in zip(moments, expected, strict=True):
            then = uow.ledger.balances(SHOP, at=moment)  # accounts opened later read 0 then
            assert {a: n for a, n in then.items() if a in balances or n} == balances
        assert uow.ledger.balances(SHOP, at=datetime(2000, 1, 1)) == {
            a: 0 for a in uow.ledger.balances(SHOP)
        }  # before the shop opened, every account was empty


def test_history_pages_newest_first_and_filters_by_account(wiring):
    for order in ("1", "2", "3"):
        services.deliver_barrels(order, [CHEAP_RED], wiring.uow_factory())
    gold = AccountRef(SHOP, ledger.GOLD)
    with wiring.uow_factory() as uow:
        first = uow.ledger.history(gold, limit=2)
        rest = uow.ledger.history(gold, before=first[-1].id, limit=10)
    pages = first + rest
    assert [p.kind for p in pages] == ["barrel_purchase"] * 3 + ["opening"]
    assert [p.request_key for p in pages[:3]] == ["3", "2", "1"]
    assert [next(e.balance_after for e in p.entries if e.account == gold) for p in pages] == [70, 80, 90, 100]


def test_history_filters_by_time_inclusively(wiring):
    for order in ("1", "2", "3"):
        services.deliver_barrels(order, [CHEAP_RED], wiring.uow_factory())
    with wiring.uow_factory() as uow:
        everything = uow.ledger.history(limit=10)
        times = {p.request_key: p.created_at for p in everything}
        middle = uow.ledger.history(since=times["2"], until=times["2"], limit=10)
        from_two = uow.ledger.history(since=times["2"], limit=10)
        up_to_one = uow.ledger.history(until=times["1"], limit=10)
    assert [p.request_key for p in middle] == ["2"]
    assert [p.request_key for p in from_two] == ["3", "2"]
    assert [p.kind for p in up_to_one] == ["barrel_purchase", "opening"]


def test_an_old_database_is_migrated_with_its_running_balances_backfilled(empty_database_url):
    engine = make_engine(empty_database_url)
    migrations.upgrade(engine, "0001")
    with engine.begin() as conn:  # the shape of the books before revision 0002
        ids = {}
        for owner, commodity in (("shop", "gold"), ("world", "gold"), ("suppliers", "gold")):
            ids[owner] = conn.execute(
                text("INSERT INTO accounts (owner, commodity) VALUES (:o, :c) RETURNING id"),
                {"o": owner, "c": commodity},
            ).scalar_one()
        # the third transaction's clock had gone back a minute: its entries must still come in time order
        for minutes, (source, target, amount) in zip(
            (0, 2, 1), (("world", "shop", 100), ("shop", "suppliers", 60), ("world", "shop", 5))
        ):
            txn = conn.execute(
                text(
                    "INSERT INTO account_transactions (created_at, kind, description) "
                    "VALUES (:at, 'old', 'old') RETURNING id"
                ),
                {"at": T0 + timedelta(minutes=minutes)},
            ).scalar_one()
            for owner, change in ((source, -amount), (target, amount)):
                conn.execute(
                    text(
                        "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change)"
                        " VALUES (:a, :t, :c)"
                    ),
                    {"a": ids[owner], "t": txn, "c": change},
                )
    migrations.upgrade(engine)
    with engine.connect() as conn:
        assert verify(conn).ok, verify(conn).lines()
        rows = (
            conn.execute(
                text("SELECT balance_after FROM account_ledger_entries WHERE account_id = :a ORDER BY id"),
                {"a": ids["shop"]},
            )
            .scalars()
            .all()
        )
        t, e = orm.account_transactions, orm.account_ledger_entries
        recorded = conn.execute(select(t.c.created_at).order_by(t.c.id)).scalars().all()
        times = (
            conn.execute(select(e.c.created_at).where(e.c.account_id == ids["shop"]).order_by(e.c.id)).scalars().all()
        )
        shop = {"gold": 45}
        assert {
            r.commodity: n for r, n in SqlLedgerRepository(conn, Writes(conn), SqlClock(conn)).balances(SHOP).items()
        } == shop
    engine.dispose()
    assert rows == [100, 40, 45]
    assert recorded == [T0 + timedelta(minutes=m) for m in (0, 2, 1)]  # history is copied, never rewritten
    assert times == [T0 + timedelta(minutes=m) for m in (0, 2, 2)]  # but the shop's entries keep time order


def test_verify_holds_a_stored_success_to_whether_it_said_it_moved(wiring):
    services.deliver_barrels("empty", [], wiring.uow_factory())  # answered, moved nothing, booked nothing
    with wiring.engine.connect() as conn:
        assert verify(conn).ok, verify(conn).lines()
        conn.execute(
            text(
                "INSERT INTO processed_requests (route, key, fingerprint, status, body, created_at, moved) "
                "VALUES ('carts/checkout', '999', 'fp', 200, :body, :at, :moved)"
            ),
            {"body": b'{"total_potions_bought":10,"total_gold_paid":500}', "at": T0, "moved": True},
        )
        assert _drifted(conn) == {"answered_as_booked"}  # a success whose effects are nowhere in the books


def test_verify_lets_a_reply_stored_before_revision_0005_have_booked_nothing(wiring):
    """Before `moved` was stored, an empty delivery was answered 204 and booked nothing: that is no drift."""
    with wiring.engine.connect() as conn:
        conn.execute(
            text(
                "INSERT INTO processed_requests (route, key, fingerprint, status, body, created_at) "
                "VALUES ('barrels/deliver', 'old-empty', 'fp', 204, :body, :at)"
            ),
            {"body": b"", "at": T0},
        )
        assert verify(conn).ok, verify(conn).lines()
