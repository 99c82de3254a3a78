"""The barrel offers the exchange showed the shop, recorded once per game tick (table `barrel_offers`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from adapters import orm
from adapters.repositories import LATEST_TICK, insert_ignoring_duplicates
from domain.clock import utcnow
from domain.metrics import liquid
from domain.potions import Barrel
from service_layer.repositories import AbstractOfferRepository


class SqlOfferRepository(AbstractOfferRepository):
    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    def record(self, offers: Sequence[Barrel]) -> None:
        tick = self.connection.execute(LATEST_TICK).first()
        if tick is None or not offers:
            return
        now = utcnow()
        rows = [
            {
                "tick_id": tick.id,
                "game_day": tick.day,
                "game_hour": tick.hour,
                "sku": b.sku,
                "ml_per_barrel": b.ml_per_barrel,
                "red": b.potion_type[0],
                "green": b.potion_type[1],
                "blue": b.potion_type[2],
                "dark": b.potion_type[3],
                "liquid": liquid(b),
                "price": b.price,
                "quantity": b.quantity,
                "created_at": now,
            }
            for b in offers
        ]
        statement = insert_ignoring_duplicates(self.connection, orm.barrel_offers, "tick_id", "sku")
        self.connection.execute(statement, rows)
