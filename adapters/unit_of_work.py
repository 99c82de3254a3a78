"""The unit of work on SQLAlchemy: one session, one database transaction, every repository on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.orm import Session

from adapters import processed_requests, repositories
from service_layer.unit_of_work import AbstractUnitOfWork, DatabaseUnavailable


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.carts = repositories.SqlCartRepository(self.session)
        self.potions = repositories.SqlPotionRepository(self.session)
        self.ledger = repositories.SqlLedgerRepository(self.session)
        self.sales = repositories.SqlSalesRepository(self.session)
        self.visits = repositories.SqlVisitRepository(self.session)
        self.clock = repositories.SqlClock(self.session)
        self.processed_requests = processed_requests.SqlProcessedRequests(self.session)
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self.session.close()
        error = exc[1]
        # A connection lost (the server restarted, or terminated our backend) or never made: the pool has already
        # let the dead connection go, so the next unit of work connects afresh.
        if isinstance(error, OperationalError) or (isinstance(error, DBAPIError) and error.connection_invalidated):
            raise DatabaseUnavailable(str(error.orig).strip().splitlines()[0]) from error

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
