"""SQLAlchemy repositories, on the unit of work's connection and in its transaction, through Core: append-only
records are only INSERTed and SELECTed; carts are read whole and written back where they changed."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

from sqlalchemy import (
    Connection,
    Table,
    bindparam,
    desc,
    func,
    or_,
    select,
    text,
    true,
    tuple_,
    union_all,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

from adapters import orm
from adapters.writes import Writes
from domain.carts import Cart, CartLine, CartStatus, Customer
from domain.clock import GameTime, utcnow
from domain.ledger import (
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


def _stamp(game_time: GameTime | None) -> dict[str, Any]:
    return {"game_day": game_time.day if game_time else None, "game_hour": game_time.hour if game_time else None}


def transaction_row(txn: Transaction, game_time: GameTime | None, request: RequestKey | None) -> dict[str, Any]:
    """A transaction's row, but for its id."""
    return {
        "created_at": utcnow(),
        "kind": txn.kind,
        "description": txn.description,
        **_stamp(game_time),
        "request_route": request.route if request else None,
        "request_key": request.value if request else None,
    }


def posted(
    txn: Transaction,
    txn_id: int,
    created_at: datetime,
    game_time: GameTime | None,
    request: RequestKey | None,
    balances: Sequence[int],
) -> PostedTransaction:
    """`txn` as the database appended it: its id, time and each entry's running balance."""
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


class SqlLedgerRepository(AbstractLedgerRepository):
    """Postings are checked by the domain on balances this unit of work locked, and written with their running
    balances. SQLite's unit of work holds the whole database from its first statement (BEGIN IMMEDIATE), so a lock
    is a read; PostgreSQL locks rows (`adapters.postgres.PgLedgerRepository`)."""

    def __init__(self, connection: Connection, writes: Writes, clock: AbstractClock) -> None:
        super().__init__()
        self.connection = connection
        self.writes = writes
        self.clock = clock
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
        a = orm.accounts
        rows = self._latest(or_(a.c.owner == SHOP, a.c.id.in_(ids)) if whole_shop else a.c.id.in_(ids))
        self._held.update({id_: (balance, at) for id_, _, _, balance, at in rows})
        return {AccountRef(owner, commodity): int(balance) for _, owner, commodity, balance, _ in rows}

    def _post(self, txn: Transaction, request: RequestKey | None, capacity: bool) -> PostedTransaction:
        self.check(txn, capacity)
        game_time = self.clock.now()
        txn_id, created_at, balances = self._insert(transaction_row(txn, game_time, request), txn)
        return posted(txn, txn_id, created_at, game_time, request, balances)

    def _insert(self, header: dict[str, Any], txn: Transaction) -> tuple[int, datetime, list[int]]:
        """The running balances follow from the held ones (the accounts are locked)."""
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


_i, _s, _p = orm.cart_items.c, orm.shelf.c, orm.potions.c
# A cart's lines with each one's price now (the latest shelf price, else the list price).
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
    """Carts through Core, in the unit of work's transaction: a cart is read whole and locked until the unit of
    work ends; what the domain changed on the carts it handed out is written back by `flush`, which the unit of work
    calls at commit (status and payment, lines changed, added or removed), with the commit's other writes. One
    object per cart in a unit of work: asked again, the repository hands out the one it has."""

    def __init__(self, connection: Connection, writes: Writes) -> None:
        self.connection = connection
        self.writes = writes
        self._carts: dict[int, Cart] = {}  # the carts handed out, by id
        self._as_read: dict[int, tuple[str, str | None, dict[str, int]]] = {}  # cart_id -> (status, payment, lines)

    def add(self, cart: Cart, game_time: GameTime | None = None) -> None:
        row = {**asdict(cart.customer), "status": cart.status, "payment": cart.payment, "created_at": utcnow()}
        cart.cart_id = int(self.connection.execute(CART_INSERT, {**row, **_stamp(game_time)}).scalar_one())
        self._carts[cart.cart_id] = cart
        self._as_read[cart.cart_id] = (cart.status, cart.payment, {})

    def get(self, cart_id: int) -> Cart | None:
        if cart_id in self._carts:  # already read (and locked) in this unit of work, perhaps changed since
            return self._carts[cart_id]
        if (read := self._read(cart_id)) is None:
            return None
        row, lines = read
        customer = Customer(row.customer_id, row.customer_name, row.character_class, row.character_species, row.level)
        cart = Cart(customer, row.cart_id)
        cart.status, cart.payment = CartStatus(row.status), row.payment
        cart.lines = [CartLine(sku, quantity, price) for sku, quantity, price in lines]
        self._carts[cart_id] = cart
        self._as_read[cart_id] = (cart.status, cart.payment, {sku: quantity for sku, quantity, _ in lines})
        return cart

    def _read(self, cart_id: int) -> tuple[Any, list[tuple[str, int, int]]] | None:
        """The cart's row and its lines (sku, quantity, price now), locked: SQLite's unit of work holds the whole
        database already (BEGIN IMMEDIATE)."""
        c = orm.carts
        row = self.connection.execute(select(c).where(c.c.cart_id == cart_id)).first()
        if row is None:
            return None
        return row, [
            (sku, quantity, price) for sku, quantity, price in self.connection.execute(CART_LINES, {"cart_id": cart_id})
        ]

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
# game time), so its id is never read back: one INSERT for all the lines (the sale lines' rollup triggers run once
# per statement), the key in each row of its VALUES.
_SOLD = ["cart_id", "sku", "potion_name", "item_sku", "quantity", "unit_price", "total"]
_SOLD += [f.name for f in fields(Customer)]  # the customer's columns are named as its fields
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
        self._write({"route": sale.route, "key": sale.value}, rows)

    def _write(self, key: dict[str, str], rows: list[dict[str, Any]]) -> None:
        self.writes.add(SALE_LINES_INSERT, [{**key, **row} for row in rows])
        # The names the lines carry, for the order search (PostgreSQL's `cauldrons_sale_lines` writes its own).
        names = sorted({row["customer_name"] for row in rows})
        self.writes.add(_new_names(self.connection), [{"customer_name": name} for name in names])

    def search(self, query: SearchQuery, cursor: Cursor | None, limit: int) -> list[SoldLine]:
        """Indexed walks, merged. A potion filter is first matched against the potions (every line's sku is one of
        theirs) and a name filter against the names the lines carry (`sale_customer_names`). Each matching name's
        lines are then read in order on (customer_name, value, id), the potion filter checked on the way, and the
        walks merged: however short the needle, the cost is a walk per name, not a search through the lines. A
        needle in more than `NAMES_WALKED` names (their lines are then many) is checked on the way instead: each
        matching sku's lines read in order on (sku, value, id) and the walks merged, or all lines on (value, id)."""
        column = self.SORTED_BY[query.sort_col]
        descending = query.descending(cursor is not None and cursor.backward)
        skus: list[str] | None = None
        if query.potion_sku:
            wanted = fold(query.potion_sku)  # matched here, as the fake does: a handful of skus
            skus = sorted(sku for sku in self.connection.scalars(select(orm.potions.c.sku)) if wanted in fold(sku))
            if not skus:
                return []
        if query.customer_name:
            by_name = query.sort_col is SortColumn.CUSTOMER_NAME
            # Sorted by name, the first `limit` + 1 names from the cursor's on hold a page, unless a potion filter
            # passes lines over: each holds a line past the cursor, but perhaps the cursor's own.
            enough = limit + 1 if by_name and skus is None else None
            names = self._names(query.customer_name, by_name, descending, cursor, enough)
            if names is not None:
                return self._sold(self._per_name(names, skus, column.name, descending, cursor, limit)) if names else []
        s = orm.sale_lines
        needle = [contains(s.c.customer_name, query.customer_name)] if query.customer_name else []
        if skus is None:
            return self._sold(_walk(s, column.name, descending, cursor, limit, *needle))
        if len(skus) == 1:
            return self._sold(_walk(s, column.name, descending, cursor, limit, s.c.sku == skus[0], *needle))
        walks = [_walk(s, column.name, descending, cursor, limit, s.c.sku == sku, *needle) for sku in skus]
        merged = union_all(*(select(walk.subquery()) for walk in walks)).subquery()
        return self._sold(select(merged).order_by(*in_order(merged, column.name, descending)).limit(limit))

    def _names(
        self, needle: str, by_name: bool, descending: bool, cursor: Cursor | None, enough: int | None
    ) -> list[str] | None:
        """The names holding `needle` whose lines a page may show: sorted `by_name`, in the scan's order from the
        cursor's name on; the first `enough` of them if that is given, else all of them, or None if there are more
        than `NAMES_WALKED`."""
        n = orm.sale_customer_names.c.customer_name
        statement = select(n).where(contains(n, needle))
        if by_name:
            if cursor is not None:
                value = cursor.position.value
                statement = statement.where(n <= value if descending else n >= value)
            statement = statement.order_by(n.desc() if descending else n.asc())
        names = list(self.connection.scalars(statement.limit(enough or NAMES_WALKED + 1)))
        return names if enough or len(names) <= NAMES_WALKED else None

    def _per_name(
        self, names: list[str], skus: list[str] | None, column: str, descending: bool, cursor: Cursor | None, limit: int
    ) -> Any:
        """The first `limit` lines past the cursor of the lines of `names` (of `skus`): each name's read in order on
        its (customer_name, value, id) index, `limit` at most, and the walks merged. SQLite, which has no LATERAL,
        walks each in a correlated subquery per name (a JSON array); PostgreSQL in a LATERAL join
        (`adapters.postgres.PgSalesRepository`)."""
        s, walked = orm.sale_lines, orm.sale_lines.alias("walked")
        potion = [walked.c.sku.in_(skus)] if skus is not None else []
        n = func.json_each(bindparam("names", json.dumps(names))).table_valued("value")
        one = select(walked.c.id).where(walked.c.customer_name == n.c.value, *potion)
        walk = paged(one, walked, column, descending, cursor, limit).correlate(n)
        page = select(s).select_from(n.join(s, s.c.id.in_(walk)))
        return page.order_by(*in_order(s, column, descending)).limit(limit)

    def _sold(self, statement: Any) -> list[SoldLine]:
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


NAMES_WALKED = 2000  # a name filter matching at most this many names has each name's lines walked on their own


def _new_names(connection: Connection) -> Any:
    return insert_ignoring_duplicates(connection, orm.sale_customer_names, "customer_name")


def in_order(table: Any, column: str, descending: bool) -> tuple[Any, Any]:
    """By (value, id), in the scan's direction."""
    by, line_id = table.c[column], table.c.id
    return (by.desc(), line_id.desc()) if descending else (by.asc(), line_id.asc())


def paged(statement: Any, table: Any, column: str, descending: bool, cursor: Cursor | None, limit: int) -> Any:
    """`statement` (over `table`'s lines) in the scan's order, from the cursor's position on, `limit` lines."""
    statement = statement.order_by(*in_order(table, column, descending)).limit(limit)
    if cursor is None:
        return statement
    # Written inclusively (ids are whole numbers), so PostgreSQL estimates its reach by the value alone.
    value, line_id = cursor.position.value, cursor.position.line_item_id
    here = tuple_(table.c[column], table.c.id)
    return statement.where(here <= tuple_(value, line_id - 1) if descending else here >= tuple_(value, line_id + 1))


def _walk(table: Any, column: str, descending: bool, cursor: Cursor | None, limit: int, *where: Any) -> Any:
    """Whole lines of `table` matching `where`, `limit` of them past the cursor, in the scan's order."""
    return paged(select(table).where(*where), table, column, descending, cursor, limit)


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
