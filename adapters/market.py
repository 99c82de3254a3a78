"""The shelf the planner chose each tick (table `shelf`) and what the shop saw of its market (`Records` for
`domain.market`): the ticks since the last reset, visitors, what visits were shown, sale lines and barrel offers."""

from __future__ import annotations

from sqlalchemy import Connection, desc, func, select

from adapters import orm
from adapters.repositories import LATEST_TICK
from domain.clock import utcnow
from domain.market import Records
from domain.planners import Shelf
from domain.potions import Barrel
from service_layer.repositories import HISTORY_TICKS, AbstractMarketRepository, AbstractShelfRepository

_shelf = orm.shelf.c
CURRENT_SHELF = (
    select(_shelf.sku, _shelf.price, _shelf.rank)
    .where(_shelf.tick_id == select(func.max(_shelf.tick_id)).scalar_subquery())
    .order_by(_shelf.rank, _shelf.sku)
)


class SqlShelfRepository(AbstractShelfRepository):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(self, shelf: Shelf) -> None:
        tick = self.connection.execute(LATEST_TICK).first()
        if tick is None:
            return
        rank = {sku: n for n, sku in enumerate(shelf.chosen)}
        now = utcnow()
        self.connection.execute(
            orm.shelf.insert(),
            [
                {"tick_id": tick.id, "sku": sku, "price": price, "rank": rank.get(sku), "created_at": now}
                for sku, price in sorted(shelf.prices.items())
            ],
        )

    def current(self) -> Shelf | None:
        rows = self.connection.execute(CURRENT_SHELF).all()
        if not rows:
            return None
        chosen = tuple(sku for sku, _, rank in sorted(rows, key=lambda r: r.rank or 0) if rank is not None)
        return Shelf(chosen, {sku: price for sku, price, _ in rows})


class SqlMarketRepository(AbstractMarketRepository):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def records(self) -> Records:
        t, clock = orm.account_transactions.c, orm.game_clock.c
        reset = select(func.max(t.created_at)).where(t.kind.in_(("reset", "opening"))).scalar_subquery()
        ticks = self.connection.execute(
            select(clock.id, clock.day, clock.hour, clock.created_at)
            .where(clock.created_at >= func.coalesce(reset, clock.created_at))
            .order_by(desc(clock.id))
            .limit(HISTORY_TICKS)
        ).all()[::-1]
        if not ticks:
            return Records()
        since = ticks[0].created_at
        v, vc, shown, s = orm.visits.c, orm.visit_customers.c, orm.visit_catalogs.c, orm.sale_lines.c
        visitors = self.connection.execute(
            select(v.created_at, vc.character_class)
            .join_from(orm.visits, orm.visit_customers, vc.visit_pk == v.id)
            .where(v.created_at >= since)
        ).all()
        catalogs = self.connection.execute(
            select(v.created_at, shown.sku, shown.price, shown.quantity)
            .join_from(orm.visits, orm.visit_catalogs, shown.visit_pk == v.id)
            .where(v.created_at >= since)
            .order_by(v.id)
        ).all()
        sales = self.connection.execute(
            select(s.created_at, s.character_class, s.sku, s.quantity, s.total, s.cart_id).where(s.created_at >= since)
        ).all()
        o = orm.barrel_offers.c
        number = {row.id: n for n, row in enumerate(ticks)}
        offers = self.connection.execute(
            select(o.tick_id, o.sku, o.ml_per_barrel, o.red, o.green, o.blue, o.dark, o.price, o.quantity).where(
                o.tick_id >= ticks[0].id
            )
        ).all()
        return Records(
            [(row.day, row.hour, row.created_at) for row in ticks],
            [tuple(row) for row in visitors],
            [tuple(row) for row in catalogs],
            [tuple(row) for row in sales],
            [
                (
                    number[row.tick_id],
                    Barrel(
                        row.sku, row.ml_per_barrel, (row.red, row.green, row.blue, row.dark), row.price, row.quantity
                    ),
                )
                for row in offers
                if row.tick_id in number
            ],
        )
