"""SQLAlchemy repositories, on the unit of work's connection and in its transaction, through Core: append-only
records are only INSERTed and SELECTed; carts are read whole and written back where they changed."""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Table, bindparam, desc, func, or_, select, text, true, tuple_, union_all, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from adapters import orm
from adapters.db import is_postgres
from adapters.writes import Writes
from domain.carts import Cart, CartLine, CartStatus, Customer
from domain.clock import GameTime, utcnow
from domain.ledger import (
    ML_PER_CAPACITY_UNIT,
    POTIONS_PER_CAPACITY_UNIT,
    SHOP,
    AccountRef,
    PostedEntry,
    PostedTransaction,
    Transaction,
)
from domain.potions import Potion, PotionType
from domain.sales import Cursor, SaleLine, SearchQuery, SoldLine, SortColumn, fold
from service_layer.idempotency import RequestKey
from service_layer.repositories import (
    AbstractCartRepository,
    AbstractClock,
    AbstractLedgerRepository,
    AbstractPotionRepository,
    AbstractSalesRepository,
    AbstractVisitRepository,
)
from service_layer.unit_of_work import BooksMoved

# Statements are built once (here, or cached per dialect below) and executed many times: building a Core statement
# and its cache key costs more CPU than SQLAlchemy's execution of an already built one.


def insert_ignoring_duplicates(connection: Connection, table: Table, *keys: str) -> Any:
    """INSERT ... ON CONFLICT (keys) DO NOTHING, in the connection's dialect."""
    return _insert_ignoring_duplicates(connection.dialect.name, table, keys)


@functools.cache
def _insert_ignoring_duplicates(dialect: str, table: Table, keys: tuple[str, ...]) -> Any:
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_nothing(index_elements=keys or None)


def upsert(connection: Connection, table: Table, keys: tuple[str, ...], values: tuple[str, ...]) -> Any:
    """INSERT ... ON CONFLICT (keys) DO UPDATE SET values, in the connection's dialect."""
    return _upsert(connection.dialect.name, table, keys, values)


@functools.cache
def _upsert(dialect: str, table: Table, keys: tuple[str, ...], values: tuple[str, ...]) -> Any:
    statement = (postgresql if dialect == "postgresql" else sqlite).insert(table)
    return statement.on_conflict_do_update(index_elements=keys, set_={v: statement.excluded[v] for v in values})


# The whole write of a posting on PostgreSQL: lock, re-check, append (migration 0007).
POST = text("""SELECT * FROM cauldrons_post(
    :created_at, :kind, :description, :game_day, :game_hour, :request_route, :request_key,
    CAST(:account_ids AS bigint[]), CAST(:changes AS bigint[]), :capacity, :potions_per_unit, :ml_per_unit)""")
# The same, stamped with the game's time as the write finds it: the latest tick, read in the same call (0014).
POST_AT_WRITE = text("""SELECT * FROM cauldrons_post_now(
    :created_at, :kind, :description, :request_route, :request_key,
    CAST(:account_ids AS bigint[]), CAST(:changes AS bigint[]), :capacity, :potions_per_unit, :ml_per_unit)""")
REFUSED = "40001"  # serialization_failure: what `cauldrons_post` raises when the rules do not hold under its locks
MOVED = "the domain's rules did not hold for a posting under its locks"

LOCK = text("SELECT * FROM cauldrons_lock(CAST(:ids AS bigint[]), :whole_shop)")
# What `cauldrons_lock` reads, without the locks: one index probe per account, planned once (migration 0011).
SNAPSHOT = text("SELECT * FROM cauldrons_snapshot(CAST(:ids AS bigint[]), :whole_shop)")


def _stamp(game_time: GameTime | None) -> dict[str, Any]:
    return {"game_day": game_time.day if game_time else None, "game_hour": game_time.hour if game_time else None}


def _header(txn: Transaction, game_time: GameTime | None, request: RequestKey | None) -> dict[str, Any]:
    """A transaction's row, but for its id."""
    return {
        "created_at": utcnow(),
        "kind": txn.kind,
        "description": txn.description,
        **_stamp(game_time),
        "request_route": request.route if request else None,
        "request_key": request.value if request else None,
    }


class SqlLedgerRepository(AbstractLedgerRepository):
    """On PostgreSQL a posting is written by one call (`cauldrons_post`) that takes its locks and checks the
    domain's rules under them, so the domain looks at the balances first only once the books moved under one of the
    unit of work's postings (`balances_to_check`); and a posting nothing reads back (`append`) goes with the
    commit's writes, its locks held for that one round trip."""

    def __init__(self, connection: Connection, writes: Writes) -> None:
        super().__init__()
        self.connection = connection
        self.writes = writes
        # Both only for the current database transaction: its locks and what it opened end with it.
        self._opened: dict[AccountRef, int] = {}  # accounts this transaction opened
        self._held: dict[int, tuple[int, datetime | None]] = {}  # locked account id -> (balance, latest time)

    def transaction_ended(self) -> None:
        """The unit of work committed or rolled back: the locks held and the accounts opened end with it."""
        self._opened.clear()
        self._held.clear()

    def _known(self) -> dict[AccountRef, int]:
        """Account ids, remembered per database connection: accounts are never changed or removed, so an id
        seen committed stays right for good."""
        return self.connection.info.setdefault("cauldrons.account_ids", {})

    def _account_ids(self, refs: Iterable[AccountRef]) -> dict[AccountRef, int]:
        """Ids of the accounts, opening the missing ones (racing openers meet in the unique constraint)."""
        refs, known = set(refs), self._known()
        if missing := refs - known.keys() - self._opened.keys():
            a = orm.accounts
            pairs = tuple_(a.c.owner, a.c.commodity).in_([(r.owner, r.commodity) for r in missing])
            found = {
                AccountRef(o, c): i
                for i, o, c in self.connection.execute(select(a.c.id, a.c.owner, a.c.commodity).where(pairs))
            }
            known.update(found)  # committed by others before we looked: this unit of work opened none yet
            if unopened := missing - found.keys():
                self.connection.execute(
                    insert_ignoring_duplicates(self.connection, a),
                    [{"owner": r.owner, "commodity": r.commodity} for r in sorted(unopened)],
                )
                rows = self.connection.execute(select(a.c.id, a.c.owner, a.c.commodity).where(pairs))
                self._opened.update({AccountRef(o, c): i for i, o, c in rows if AccountRef(o, c) in unopened})
        return {r: known.get(r) or self._opened[r] for r in refs}

    def _latest(self, where: Any, at: datetime | None = None) -> list[Any]:
        """(account id, owner, commodity, balance, time) of the accounts matching `where`, each read from its
        latest entry (at or before `at`): one index probe per account, however long the history."""
        a, e, newer = orm.accounts, orm.account_ledger_entries, orm.account_ledger_entries.alias("newest")
        newest = select(newer.c.id).where(newer.c.account_id == a.c.id)
        if at is not None:
            newest = newest.where(newer.c.created_at <= at)
        latest = newest.order_by(newer.c.created_at.desc(), newer.c.id.desc()).limit(1).correlate(a).scalar_subquery()
        return list(
            self.connection.execute(
                select(a.c.id, a.c.owner, a.c.commodity, func.coalesce(e.c.balance_after, 0), e.c.created_at)
                .select_from(a.outerjoin(e, e.c.id == latest))
                .where(where)
                .order_by(a.c.id)
            )
        )

    def lock(self, accounts: Iterable[AccountRef] = (), whole_shop: bool = True) -> dict[AccountRef, int]:
        ids = list(self._account_ids(accounts).values())
        if is_postgres(self.connection):
            # One round trip: the locks in id order, then a read that sees the last writer (migration 0006).
            rows = list(self.connection.execute(LOCK, {"ids": ids, "whole_shop": whole_shop}))
        else:  # SQLite: the whole database is already ours (BEGIN IMMEDIATE)
            a = orm.accounts
            rows = self._latest(or_(a.c.owner == SHOP, a.c.id.in_(ids)) if whole_shop else a.c.id.in_(ids))
        self._held.update({id_: (balance, at) for id_, _, _, balance, at in rows})
        return {AccountRef(owner, commodity): int(balance) for _, owner, commodity, balance, _ in rows}

    def balances_to_check(
        self, accounts: Iterable[AccountRef] = (), whole_shop: bool = True, look: bool = True
    ) -> dict[AccountRef, int] | None:
        if not is_postgres(self.connection):
            return self.lock(accounts, whole_shop)
        if not look:  # `cauldrons_post` checks the rules under its locks (migration 0007): BooksMoved if they fail
            return None
        ids = list(self._account_ids(accounts).values())  # a snapshot, without the locks
        rows = self.connection.execute(SNAPSHOT, {"ids": ids, "whole_shop": whole_shop})
        return {AccountRef(owner, commodity): int(balance) for _, owner, commodity, balance in rows}

    def append(
        self, txn: Transaction, clock: AbstractClock, request: RequestKey | None, capacity: bool = False
    ) -> None:
        if not is_postgres(self.connection):
            return super().append(txn, clock, request, capacity)
        # The posting reads the game's time itself, as it is written (a time this transaction set included): the
        # clock is not read in a round trip of its own.
        arguments = self._post_arguments(txn, None, request, capacity)
        self.writes.add(POST_AT_WRITE, [arguments], (REFUSED, BooksMoved(MOVED)))
        self.posted += 1

    def _add(
        self, txn: Transaction, game_time: GameTime | None, request: RequestKey | None, capacity: bool
    ) -> PostedTransaction:
        if is_postgres(self.connection):
            txn_id, created_at, balances = self._post(self._post_arguments(txn, game_time, request, capacity))
        else:
            txn_id, created_at, balances = self._insert(_header(txn, game_time, request), txn)
        return PostedTransaction(
            txn_id,
            created_at,
            txn.kind,
            txn.description,
            game_time,
            request.route if request else None,
            request.value if request else None,
            tuple(PostedEntry(e.account, e.change, b) for e, b in zip(txn.entries, balances, strict=True)),
        )

    def _post_arguments(
        self, txn: Transaction, game_time: GameTime | None, request: RequestKey | None, capacity: bool
    ) -> dict[str, Any]:
        ids = self._account_ids(e.account for e in txn.entries)
        return {
            **_header(txn, game_time, request),
            "account_ids": [ids[e.account] for e in txn.entries],
            "changes": [e.change for e in txn.entries],
            "capacity": capacity,
            "potions_per_unit": POTIONS_PER_CAPACITY_UNIT,
            "ml_per_unit": ML_PER_CAPACITY_UNIT,
        }

    def _post(self, arguments: dict[str, Any]) -> tuple[int, datetime, list[int]]:
        """PostgreSQL: lock, check, append, in one call (migration 0007)."""
        try:
            row = self.connection.execute(POST, arguments).one()
        except DBAPIError as error:
            if getattr(error.orig, "pgcode", None) == REFUSED:
                raise BooksMoved(str(error.orig).strip().splitlines()[0]) from error
            raise
        return int(row.id), row.created_at, [int(b) for b in row.balances]

    def _insert(self, header: dict[str, Any], txn: Transaction) -> tuple[int, datetime, list[int]]:
        """SQLite: the whole database is this unit of work's, so the running balances follow from the held ones."""
        ids = self._account_ids(e.account for e in txn.entries)
        moves = [(e.account, ids[e.account], e.change) for e in txn.entries]
        if not {id_ for _, id_, _ in moves} <= self._held.keys():
            self.lock((ref for ref, _, _ in moves), whole_shop=False)
        running = {id_: self._held[id_][0] for _, id_, _ in moves}
        # Never older than an entry already on these accounts, so per account time order is entry order.
        created_at = max([header["created_at"], *(at for id_ in running if (at := self._held[id_][1]) is not None)])
        entries = []
        for ref, id_, change in moves:
            running[id_] += change
            entries.append(
                {
                    "account_id": id_,
                    "change": change,
                    "balance_after": running[id_],
                    "created_at": created_at,
                    "non_negative": ref.non_negative,
                }
            )
        t = orm.account_transactions
        txn_id = int(
            self.connection.execute(t.insert().returning(t.c.id), {**header, "created_at": created_at}).scalar_one()
        )
        if entries:
            self.connection.execute(
                orm.account_ledger_entries.insert(), [{**e, "account_transaction_id": txn_id} for e in entries]
            )
        self._held.update({id_: (balance, created_at) for id_, balance in running.items()})
        return txn_id, created_at, [e["balance_after"] for e in entries]

    def balances(self, owner: str | None = None, at: datetime | None = None) -> dict[AccountRef, int]:
        where = orm.accounts.c.owner == owner if owner is not None else true()
        return {AccountRef(o, c): int(balance) for _, o, c, balance, _ in self._latest(where, at)}

    def history(
        self,
        account: AccountRef | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[PostedTransaction]:
        t, e, a = orm.account_transactions, orm.account_ledger_entries, orm.accounts
        query = select(t).order_by(t.c.id.desc()).limit(limit)
        if account is not None:
            query = query.where(
                t.c.id.in_(
                    select(e.c.account_transaction_id)
                    .join(a, a.c.id == e.c.account_id)
                    .where(a.c.owner == account.owner, a.c.commodity == account.commodity)
                )
            )
        if since is not None:
            query = query.where(t.c.created_at >= since)
        if until is not None:
            query = query.where(t.c.created_at <= until)
        if before is not None:
            query = query.where(t.c.id < before)
        txns = list(self.connection.execute(query))
        entries: dict[int, list[PostedEntry]] = {row.id: [] for row in txns}
        if entries:
            rows = self.connection.execute(
                select(e.c.account_transaction_id, a.c.owner, a.c.commodity, e.c.change, e.c.balance_after)
                .join(a, a.c.id == e.c.account_id)
                .where(e.c.account_transaction_id.in_(entries))
                .order_by(e.c.id)
            )
            for txn_id, owner, commodity, change, balance_after in rows:
                entries[txn_id].append(PostedEntry(AccountRef(owner, commodity), change, balance_after))
        return [
            PostedTransaction(
                id=row.id,
                created_at=row.created_at,
                kind=row.kind,
                description=row.description,
                game_time=GameTime(row.game_day, row.game_hour) if row.game_day is not None else None,
                request_route=row.request_route,
                request_key=row.request_key,
                entries=tuple(entries[row.id]),
            )
            for row in txns
        ]


class SqlPotionRepository(AbstractPotionRepository):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._potions: list[Potion] | None = None

    def list(self) -> list[Potion]:
        """Read once per database connection: the potions are written by the migrations only, never while the shop
        serves (a new connection reads them again)."""
        if self._potions is None:
            info = self.connection.info
            if "cauldrons.potions" not in info:
                p = orm.potions
                rows = self.connection.execute(
                    select(p.c.sku, p.c.name, p.c.red, p.c.green, p.c.blue, p.c.dark, p.c.price).order_by(p.c.sku)
                )
                info["cauldrons.potions"] = [
                    Potion(sku, name, PotionType(r, g, b, d), price) for sku, name, r, g, b, d, price in rows
                ]
            self._potions = info["cauldrons.potions"]
        return list(self._potions)


CART = text("SELECT * FROM cauldrons_cart(:cart_id)")  # lock the cart, then read it with its lines (migration 0010)
_i, _s, _p = orm.cart_items.c, orm.shelf.c, orm.potions.c
# SQLite: a cart's lines with each one's price now (the latest shelf price, else the list price).
CART_LINES = (
    select(
        _i.sku,
        _i.quantity,
        func.coalesce(
            select(_s.price).where(_s.sku == _i.sku).order_by(desc(_s.id)).limit(1).scalar_subquery(),
            select(_p.price).where(_p.sku == _i.sku).scalar_subquery(),
        ),
    )
    .where(_i.cart_id == bindparam("cart_id"))
    .order_by(_i.id)
)
CART_INSERT = orm.carts.insert().returning(orm.carts.c.cart_id)
CART_UPDATE = (
    update(orm.carts)
    .where(orm.carts.c.cart_id == bindparam("id"))
    .values(status=bindparam("status"), payment=bindparam("payment"))
)
CART_LINE_DELETE = orm.cart_items.delete().where(
    orm.cart_items.c.cart_id == bindparam("id"), orm.cart_items.c.sku == bindparam("line")
)


class SqlCartRepository(AbstractCartRepository):
    """Carts through Core, in the unit of work's transaction: a cart is read whole (on PostgreSQL in one call) and
    locked until the unit of work ends; what the domain changed on the carts it handed out is written back by
    `flush`, which the unit of work calls at commit (status and payment, lines changed, added or removed), with the
    commit's other writes. One object per cart in a unit of work: asked again, the repository hands out the one it
    has."""

    def __init__(self, connection: Connection, writes: Writes) -> None:
        super().__init__()
        self.connection = connection
        self.writes = writes
        self._carts: dict[int, Cart] = {}  # the carts handed out, by id
        self._as_read: dict[int, tuple[str, str | None, dict[str, int]]] = {}  # cart_id -> (status, payment, lines)

    def _add(self, cart: Cart, game_time: GameTime | None) -> None:
        row = {**asdict(cart.customer), "status": cart.status, "payment": cart.payment, "created_at": utcnow()}
        cart.cart_id = int(self.connection.execute(CART_INSERT, {**row, **_stamp(game_time)}).scalar_one())
        self._carts[cart.cart_id] = cart
        self._as_read[cart.cart_id] = (cart.status, cart.payment, {})

    def _get(self, cart_id: int) -> Cart | None:
        if cart_id in self._carts:  # already read (and locked) in this unit of work, perhaps changed since
            return self._carts[cart_id]
        if is_postgres(self.connection):
            row = self.connection.execute(CART, {"cart_id": cart_id}).first()
            if row is None:
                return None
            lines = list(zip(row.skus, row.quantities, row.prices, strict=True))
        else:  # SQLite: the whole database is already this unit of work's (BEGIN IMMEDIATE)
            c = orm.carts
            row = self.connection.execute(select(c).where(c.c.cart_id == cart_id)).first()
            if row is None:
                return None
            lines = list(self.connection.execute(CART_LINES, {"cart_id": cart_id}))
        customer = Customer(row.customer_id, row.customer_name, row.character_class, row.character_species, row.level)
        cart = Cart(customer, row.cart_id)
        cart.status, cart.payment = CartStatus(row.status), row.payment
        cart.lines = [CartLine(sku, quantity, price) for sku, quantity, price in lines]
        self._carts[cart_id] = cart
        self._as_read[cart_id] = (cart.status, cart.payment, {sku: quantity for sku, quantity, _ in lines})
        return cart

    def flush(self) -> None:
        """Write what changed on the carts handed out since they were read (or added): carts this transaction
        holds, so their writes go `first`, before any posting's."""
        for cart_id, cart in self._carts.items():
            status, payment, lines = self._as_read[cart_id]
            if (cart.status, cart.payment) != (status, payment):
                changed = [{"id": cart_id, "status": cart.status, "payment": cart.payment}]
                self.writes.add(CART_UPDATE, changed, first=True)
            now = {line.sku: line.quantity for line in cart.lines}
            self.writes.add(
                upsert(self.connection, orm.cart_items, ("cart_id", "sku"), ("quantity",)),
                [{"cart_id": cart_id, "sku": k, "quantity": q} for k, q in now.items() if lines.get(k) != q],
                first=True,
            )
            gone = [{"id": cart_id, "line": sku} for sku in sorted(lines.keys() - now)]
            self.writes.add(CART_LINE_DELETE, gone, first=True)
            self._as_read[cart_id] = (cart.status, cart.payment, now)

    def close_open_carts(self) -> int:
        c = orm.carts
        result = self.connection.execute(
            update(c).where(c.c.status == CartStatus.OPEN).values(status=CartStatus.CLOSED)
        )
        return result.rowcount


def contains(column: Any, needle: str) -> Any:
    """Case-insensitive (ASCII) *contains*, with `%`, `_` and the escape character taken literally. The folded
    column is what PostgreSQL's trigram indexes cover."""
    escaped = fold(needle).replace("/", "//").replace("%", "/%").replace("_", "/_")
    return func.lower(column).like(f"%{escaped}%", escape="/")


# The lines of a sale, stamped with the transaction the checkout's key posted in this transaction (its id, time and
# game time): written after that posting, with the commit, so its id is never read back. One statement for all the
# lines (the sale lines' rollup triggers run once per statement). PostgreSQL: one call, planned once per connection
# (migration 0014), its columns as arrays; SQLite: one INSERT, the key in each row of its VALUES.
_SOLD = ["cart_id", "sku", "potion_name", "item_sku", "quantity", "unit_price", "total"]
_SOLD += [f.name for f in fields(Customer)]  # the customer's columns are named as its fields
SALE_LINES_CALL = text(
    "SELECT cauldrons_sale_lines(:route, :key, CAST(:cart_id AS bigint[]), CAST(:sku AS text[]), "
    "CAST(:potion_name AS text[]), CAST(:item_sku AS text[]), CAST(:quantity AS integer[]), "
    "CAST(:unit_price AS integer[]), CAST(:total AS bigint[]), CAST(:customer_id AS text[]), "
    "CAST(:customer_name AS text[]), CAST(:character_class AS text[]), CAST(:character_species AS text[]), "
    "CAST(:level AS integer[]))"
)
SALE_LINES_INSERT = text(
    f"WITH v (route, key, {', '.join(_SOLD)}) AS (VALUES (:route, :key, {', '.join(':' + c for c in _SOLD)}))"
    f" INSERT INTO sale_lines (account_transaction_id, created_at, game_day, game_hour, {', '.join(_SOLD)})"
    f" SELECT t.id, t.created_at, t.game_day, t.game_hour, {', '.join('v.' + c for c in _SOLD)}"
    " FROM v JOIN account_transactions t ON t.id = (SELECT max(p.id) FROM account_transactions p"
    " WHERE p.request_route = v.route AND p.request_key = v.key)"
)


class SqlSalesRepository(AbstractSalesRepository):
    SORTED_BY = {
        SortColumn.CUSTOMER_NAME: orm.sale_lines.c.customer_name,
        SortColumn.ITEM_SKU: orm.sale_lines.c.item_sku,
        SortColumn.LINE_ITEM_TOTAL: orm.sale_lines.c.total,
        SortColumn.TIMESTAMP: orm.sale_lines.c.created_at,
    }

    def __init__(self, connection: Connection, writes: Writes) -> None:
        self.connection = connection
        self.writes = writes

    def add(self, lines: Sequence[SaleLine], sale: RequestKey) -> None:
        if not lines:
            return
        rows = [
            {
                "cart_id": line.cart_id,
                "sku": line.sku,
                "potion_name": line.potion_name,
                "item_sku": line.item_sku,
                "quantity": line.quantity,
                "unit_price": line.unit_price,
                "total": line.total,
                **asdict(line.customer),
            }
            for line in lines
        ]
        key = {"route": sale.route, "key": sale.value}
        if self.writes.deferred:  # nothing reads them back in the unit of work: they go with the commit
            self.writes.add(SALE_LINES_CALL, [{**key, **{column: [r[column] for r in rows] for column in _SOLD}}])
        else:
            self.writes.add(SALE_LINES_INSERT, [{**key, **row} for row in rows])

    def search(self, query: SearchQuery, cursor: Cursor | None, limit: int) -> list[SoldLine]:
        """One indexed walk per potion: the potion filter is first matched against the potions (every line's sku is
        one of theirs), then each matching sku's lines are read in order on (sku, value, id) and the walks merged;
        without the filter, one walk on (value, id)."""
        s = orm.sale_lines
        column = self.SORTED_BY[query.sort_col]
        descending = query.descending(cursor is not None and cursor.backward)
        order = (column.desc(), s.c.id.desc()) if descending else (column.asc(), s.c.id.asc())

        def walk(*where: Any) -> Any:
            statement = select(s).where(*where).order_by(*order).limit(limit)
            if query.customer_name:
                statement = statement.where(contains(s.c.customer_name, query.customer_name))
            if cursor is not None:
                # Written inclusively (ids are whole numbers), so PostgreSQL estimates its reach by the value alone.
                value, line_id = cursor.position.value, cursor.position.line_item_id
                here = tuple_(column, s.c.id)
                statement = statement.where(
                    here <= tuple_(value, line_id - 1) if descending else here >= tuple_(value, line_id + 1)
                )
            return statement

        if not query.potion_sku:
            statement = walk()
        else:
            wanted = fold(query.potion_sku)  # matched here, as the fake does: a handful of skus
            skus = sorted(sku for sku in self.connection.scalars(select(orm.potions.c.sku)) if wanted in fold(sku))
            if not skus:
                return []
            if len(skus) == 1:
                statement = walk(s.c.sku == skus[0])
            else:
                merged = union_all(*(select(walk(s.c.sku == sku).subquery()) for sku in skus)).subquery()
                by = merged.c[column.name]
                statement = (
                    select(merged)
                    .order_by(*((by.desc(), merged.c.id.desc()) if descending else (by.asc(), merged.c.id.asc())))
                    .limit(limit)
                )
        return [
            SoldLine(
                line_item_id=row.id,
                line=SaleLine(
                    row.cart_id,
                    row.sku,
                    row.potion_name,
                    row.quantity,
                    row.unit_price,
                    Customer(row.customer_id, row.customer_name, row.character_class, row.character_species, row.level),
                ),
                sold_at=row.created_at,
                game_time=GameTime(row.game_day, row.game_hour) if row.game_day is not None else None,
                transaction_id=row.account_transaction_id,
                item_sku=row.item_sku,
            )
            for row in self.connection.execute(statement)
        ]


class SqlVisitRepository(AbstractVisitRepository):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def add(
        self,
        visit_id: str,
        customers: Sequence[Customer],
        game_time: GameTime | None,
        shown: Sequence[tuple[str, int, int]] = (),
    ) -> None:
        visit_pk = self.connection.execute(
            orm.visits.insert().returning(orm.visits.c.id), {"visit_id": visit_id, **_stamp(game_time)}
        ).scalar_one()
        if customers:
            self.connection.execute(
                orm.visit_customers.insert(),
                [
                    {
                        "visit_pk": visit_pk,
                        "customer_id": c.customer_id,
                        "customer_name": c.customer_name,
                        "character_class": c.character_class,
                        "character_species": c.character_species,
                        "level": c.level,
                    }
                    for c in customers
                ],
            )
        if shown:
            self.connection.execute(
                orm.visit_catalogs.insert(),
                [{"visit_pk": visit_pk, "sku": sku, "price": price, "quantity": n} for sku, price, n in shown],
            )


_clock = orm.game_clock.c
LATEST_TICK = select(_clock.id, _clock.day, _clock.hour).order_by(desc(_clock.id)).limit(1)  # the game's time now


class SqlClock(AbstractClock):
    """The game's time now: read when asked (a posting written with the commit reads it itself, `POST_AT_WRITE`). A
    time this transaction set holds until it ends (`transaction_ended`)."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._set: GameTime | None = None  # the time this transaction set, if it did

    def transaction_ended(self) -> None:
        self._set = None

    def now(self) -> GameTime | None:
        if self._set is not None:
            return self._set
        row = self.connection.execute(LATEST_TICK).first()
        return GameTime(row.day, row.hour) if row else None

    def set(self, game_time: GameTime) -> None:
        self.connection.execute(orm.game_clock.insert(), {"day": game_time.day, "hour": game_time.hour})
        self._set = game_time
