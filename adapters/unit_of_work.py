"""The unit of work on SQLAlchemy: one connection, one database transaction, every repository on it."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters import metrics, offers, processed_requests, repositories
from service_layer.unit_of_work import AbstractUnitOfWork, DatabaseUnavailable

# SQLSTATE classes of a database that is not there for us: connection exceptions, an operator's intervention
# (shutdown, terminated backend), too many connections.
UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "53300")


def unavailable(error: object, connecting: bool = False) -> str | None:
    """Why the database could not serve, if that is what `error` says; None for any other error (a bug, a refused
    statement), which must not be dressed up as a reason to retry. Any driver error while `connecting` says it: the
    database is down, unreachable, or refuses this shop's connections."""
    if isinstance(error, PoolTimeout):
        return "every database connection of this worker is busy"
    if not isinstance(error, DBAPIError):
        return None
    state = getattr(error.orig, "pgcode", None) or ""
    text = str(error.orig).strip().splitlines()[0] if str(error.orig).strip() else type(error.orig).__name__
    if connecting or error.connection_invalidated or state.startswith(UNAVAILABLE_STATES):
        return text
    if isinstance(error, OperationalError) and "database is locked" in text:  # SQLite, past its busy timeout
        return text
    return None


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """Repositories on one pooled connection, in one transaction (begun by the first statement). They are written
    with Core alone: the ORM's session, identity map and flush cost more CPU than the work of a request here."""

    carts: repositories.SqlCartRepository
    ledger: repositories.SqlLedgerRepository

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __enter__(self) -> Self:
        try:
            self.connection = self.engine.connect()
        except Exception as error:
            if (reason := unavailable(error, connecting=True)) is not None:
                raise DatabaseUnavailable(reason) from error
            raise
        self.carts = repositories.SqlCartRepository(self.connection)
        self.potions = repositories.SqlPotionRepository(self.connection)
        self.ledger = repositories.SqlLedgerRepository(self.connection)
        self.sales = repositories.SqlSalesRepository(self.connection)
        self.visits = repositories.SqlVisitRepository(self.connection)
        self.clock = repositories.SqlClock(self.connection)
        self.offers = offers.SqlOfferRepository(self.connection)
        self.metrics = metrics.SqlMetricsRepository(self.connection)
        self.processed_requests = processed_requests.SqlProcessedRequests(self.connection)
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self.connection.close()
        error = exc[1]
        if isinstance(error, BaseException) and (reason := unavailable(error)) is not None:
            raise DatabaseUnavailable(reason) from error

    def commit(self) -> None:
        self.carts.flush()  # what the domain changed on the carts it was handed
        self.connection.commit()
        self.ledger.transaction_ended()

    def rollback(self) -> None:
        self.connection.rollback()
        self.ledger.transaction_ended()
