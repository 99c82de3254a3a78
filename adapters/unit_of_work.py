"""The unit of work on SQLAlchemy: one connection, one database transaction, every repository on it."""

from __future__ import annotations

from typing import Self

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from adapters import market, metrics, offers, repositories
from adapters.processed_requests import KnownReplies, SqlProcessedRequests
from adapters.writes import Writes
from service_layer.unit_of_work import AbstractUnitOfWork, DatabaseUnavailable

# SQLSTATE classes of a database that is not there for us: connection exceptions, an operator's intervention
# (shutdown, terminated backend, a cancelled statement: a statement timeout or pg_cancel_backend, which rolls the
# transaction back whole), too many connections.
UNAVAILABLE_STATES = ("08", "57P01", "57P02", "57P03", "57014", "53300")


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


def connect(engine: Engine) -> Connection:
    """A pooled connection of `engine`; a database that is not there for us is DatabaseUnavailable (a 503)."""
    try:
        return engine.connect()
    except Exception as error:
        if (reason := unavailable(error, connecting=True)) is not None:
            raise DatabaseUnavailable(reason) from error
        raise


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    """Repositories on one pooled connection, in one transaction (begun by the first statement). They are written
    with Core alone: the ORM's session, identity map and flush cost more CPU than the work of a request here.
    A backend's unit of work may bring repositories of its own (`adapters.postgres.PostgresUnitOfWork`)."""

    carts: repositories.SqlCartRepository
    ledger: repositories.SqlLedgerRepository
    clock: repositories.SqlClock
    sales: repositories.SqlSalesRepository
    processed_requests: SqlProcessedRequests
    writes: Writes

    def __init__(self, engine: Engine, known_replies: KnownReplies | None = None) -> None:
        """`known_replies`: the replies already seen on `engine`'s database, shared by the units of work of one
        process (a new, empty set if not given)."""
        self.engine = engine
        self.known_replies = known_replies if known_replies is not None else KnownReplies()

    def __enter__(self) -> Self:
        self.connection = connect(self.engine)
        self._repositories()
        return super().__enter__()

    def _repositories(self) -> None:
        """The repositories on this unit of work's connection."""
        self.clock = repositories.SqlClock(self.connection)
        self.potions = repositories.SqlPotionRepository(self.connection)
        self.visits = repositories.SqlVisitRepository(self.connection)
        self.offers = offers.SqlOfferRepository(self.connection)
        self.metrics = metrics.SqlMetricsRepository(self.connection)
        self.shelf = market.SqlShelfRepository(self.connection)
        self.market = market.SqlMarketRepository(self.connection)
        self._writing_repositories()

    def _writing_repositories(self) -> None:
        """The writes and the repositories whose writes (or reads) a backend may do its own way."""
        self.writes = Writes(self.connection)
        self.carts = repositories.SqlCartRepository(self.connection, self.writes)
        self.ledger = repositories.SqlLedgerRepository(self.connection, self.writes, self.clock)
        self.sales = repositories.SqlSalesRepository(self.connection, self.writes)
        self.processed_requests = SqlProcessedRequests(self.connection, self.writes, self.known_replies)

    def __exit__(self, *exc: object) -> None:
        try:
            super().__exit__(*exc)
        finally:
            self._give_back()
            self.connection.close()
        error = exc[1]
        if isinstance(error, BaseException) and (reason := unavailable(error)) is not None:
            raise DatabaseUnavailable(reason) from error

    def commit(self) -> None:
        self.carts.flush()  # what the domain changed on the carts it was handed
        self.writes.commit()  # whatever waited for the commit
        self.connection.commit()
        self._transaction_ended(committed=True)

    def rollback(self) -> None:
        self.writes.rollback()
        self.connection.rollback()
        self._transaction_ended(committed=False)

    def _give_back(self) -> None:
        """Leave the connection as the pool's other users expect it."""

    def _transaction_ended(self, committed: bool) -> None:
        """What repositories kept for this transaction (locks held, accounts opened, the time set, the reply to
        commit) ends with it."""
        self.ledger.transaction_ended()
        self.clock.transaction_ended()
        self.processed_requests.transaction_ended(committed)
