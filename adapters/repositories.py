"""SQLAlchemy repositories. Append-only records go through Core (INSERT and SELECT only); carts are mapped."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import Table, desc, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from adapters import orm
from domain.carts import Cart, Customer
from domain.clock import GameTime
from domain.ledger import AccountRef, Transaction
from domain.potions import Potion, PotionType
from service_layer.idempotency import RequestKey
from service_layer.repositories import (
    AbstractCartRepository,
    AbstractClock,
    AbstractLedgerRepository,
    AbstractPotionRepository,
    AbstractVisitRepository,
)


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def insert_ignoring_duplicates(session: Session, table: Table, **conflict: Any) -> Any:
    """INSERT ... ON CONFLICT DO NOTHING, in the session's dialect."""
    dialect = postgresql if is_postgres(session) else sqlite
    return dialect.insert(table).on_conflict_do_nothing(**conflict)


def _stamp(game_time: GameTime | None) -> dict[str, Any]:
    return {"game_day": game_time.day if game_time else None, "game_hour": game_time.hour if game_time else None}


class SqlLedgerRepository(AbstractLedgerRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._ids: dict[AccountRef, int] = {}

    def _account_ids(self, refs: Iterable[AccountRef]) -> dict[AccountRef, int]:
        """Ids of the accounts, opening the missing ones (racing openers meet in the unique constraint)."""
        refs = set(refs)
        if missing := refs - self._ids.keys():
            self.session.execute(
                insert_ignoring_duplicates(self.session, orm.accounts),
                [{"owner": r.owner, "commodity": r.commodity} for r in sorted(missing)],
            )
            rows = self.session.execute(select(orm.accounts.c.id, orm.accounts.c.owner, orm.accounts.c.commodity))
            self._ids = {AccountRef(owner, commodity): id_ for id_, owner, commodity in rows}
        return {r: self._ids[r] for r in refs}

    def add(self, txn: Transaction, game_time: GameTime | None, request: RequestKey | None) -> int:
        ids = self._account_ids(e.account for e in txn.entries)
        txn_id = self.session.execute(
            orm.account_transactions.insert().returning(orm.account_transactions.c.id),
            {"kind": txn.kind, "description": txn.description, **_stamp(game_time),
             "request_route": request.route if request else None, "request_key": request.value if request else None},
        ).scalar_one()
        if txn.entries:
            self.session.execute(orm.account_ledger_entries.insert(), [
                {"account_id": ids[e.account], "account_transaction_id": txn_id, "change": e.change}
                for e in txn.entries
            ])
        return txn_id

    def balances(self, owner: str, lock: bool = False) -> dict[AccountRef, int]:
        a, e = orm.accounts, orm.account_ledger_entries
        if lock and is_postgres(self.session):  # SQLite: the whole database is already ours (BEGIN IMMEDIATE)
            self.session.execute(select(a.c.id).where(a.c.owner == owner).order_by(a.c.id).with_for_update())
        rows = self.session.execute(
            select(a.c.commodity, func.coalesce(func.sum(e.c.change), 0))
            .select_from(a.outerjoin(e, e.c.account_id == a.c.id))
            .where(a.c.owner == owner)
            .group_by(a.c.id, a.c.commodity)
        )
        return {AccountRef(owner, commodity): int(total) for commodity, total in rows}


class SqlPotionRepository(AbstractPotionRepository):
    def __init__(self, session: Session) -> None:
        self.session = session
        self._potions: list[Potion] | None = None

    def list(self) -> list[Potion]:
        if self._potions is None:
            p = orm.potions
            rows = self.session.execute(select(p.c.sku, p.c.name, p.c.red, p.c.green, p.c.blue, p.c.dark,
                                               p.c.price).order_by(p.c.sku))
            self._potions = [Potion(sku, name, PotionType(r, g, b, d), price)
                             for sku, name, r, g, b, d, price in rows]
        return self._potions


class SqlCartRepository(AbstractCartRepository):
    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def _add(self, cart: Cart, game_time: GameTime | None) -> None:
        for name, value in _stamp(game_time).items():
            setattr(cart, name, value)
        self.session.add(cart)
        self.session.flush()  # the database hands out the cart_id

    def _get(self, cart_id: int) -> Cart | None:
        return self.session.get(Cart, cart_id, with_for_update=True)

    def close_open_carts(self) -> int:
        result = self.session.execute(
            update(orm.carts).where(orm.carts.c.status == "open").values(status="closed")
            .execution_options(synchronize_session=False)
        )
        return result.rowcount


class SqlVisitRepository(AbstractVisitRepository):
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, visit_id: str, customers: Sequence[Customer], game_time: GameTime | None) -> None:
        visit_pk = self.session.execute(
            orm.visits.insert().returning(orm.visits.c.id), {"visit_id": visit_id, **_stamp(game_time)}
        ).scalar_one()
        if customers:
            self.session.execute(orm.visit_customers.insert(), [
                {"visit_pk": visit_pk, "customer_id": c.customer_id, "customer_name": c.customer_name,
                 "character_class": c.character_class, "character_species": c.character_species, "level": c.level}
                for c in customers
            ])


class SqlClock(AbstractClock):
    def __init__(self, session: Session) -> None:
        self.session = session

    def now(self) -> GameTime | None:
        row = self.session.execute(
            select(orm.game_clock.c.day, orm.game_clock.c.hour).order_by(desc(orm.game_clock.c.id)).limit(1)
        ).first()
        return GameTime(row.day, row.hour) if row else None

    def set(self, game_time: GameTime) -> None:
        self.session.execute(orm.game_clock.insert(), {"day": game_time.day, "hour": game_time.hour})
