"""The unit of work on SQLAlchemy: one session, one database transaction, every repository on it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Self

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session

from adapters import metrics, offers, processed_requests, repositories
from service_layer.unit_of_work import AbstractUnitOfWork, DatabaseUnavailable

# SQLSTATE classes of a database that is not there for us: connection exceptions, an operator's intervention
# (shutdown, terminated backend), too many connections.
UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def unavailable(error: object) -> str | None:
    """Why the database could not serve, if that is what `error` says; None for any other error (a bug, a refused
    statement), which must not be dressed up as a reason to retry."""
    if isinstance(error, PoolTimeout):
        return "every database connection of this worker is busy"
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "pgcode", None) or ""
    text = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
    if error.connection_invalidated or state.startswith(UNAVAILABLE_STATES):
        return text
    if isinstance(error, OperationalError) and "database is locked" in text:  # SQLite, past its busy timeout
        return text
    return None


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    carts: repositories.SqlCartRepository

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
        self.offers = offers.SqlOfferRepository(self.session)
        self.metrics = metrics.SqlMetricsRepository(self.session)
        self.processed_requests = processed_requests.SqlProcessedRequests(self.session)
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self.session.close()
        error = exc[1]
        if isinstance(error, BaseException) and (reason := unavailable(error)) is not None:
            raise DatabaseUnavailable(reason) from error

    def commit(self) -> None:
        self.carts.flush()  # what the domain changed on the carts it was handed
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
