"""The unit of work: one database transaction, with every repository on it. Commit is explicit.

`adapters.unit_of_work.SqlAlchemyUnitOfWork` implements it on a database; `tests.fakes.FakeUnitOfWork` in memory.
"""

from __future__ import annotations

import abc
from typing import Self

from service_layer.idempotency import AbstractProcessedRequests
from service_layer.repositories import (
    AbstractCartRepository,
    AbstractClock,
    AbstractLedgerRepository,
    AbstractMarketRepository,
    AbstractMetricsRepository,
    AbstractOfferRepository,
    AbstractPotionRepository,
    AbstractSalesRepository,
    AbstractShelfRepository,
    AbstractVisitRepository,
)


class DatabaseUnavailable(Exception):
    """The database could not be reached, or dropped the connection mid-way: nothing was committed, so the same
    request may be retried as it is."""


class BooksMoved(DatabaseUnavailable):
    """A posting was written unchecked, or checked against a snapshot, and under the write's locks the database
    found that the domain's rules do not hold for it: the use case must be run again, checked by the domain on the
    balances as they are now (and if that keeps happening, the request is answered like an unavailable database:
    retry it)."""


class AbstractUnitOfWork(abc.ABC):
    carts: AbstractCartRepository
    potions: AbstractPotionRepository
    ledger: AbstractLedgerRepository
    sales: AbstractSalesRepository
    processed_requests: AbstractProcessedRequests
    visits: AbstractVisitRepository
    clock: AbstractClock
    offers: AbstractOfferRepository
    metrics: AbstractMetricsRepository
    shelf: AbstractShelfRepository
    market: AbstractMarketRepository
    # Set by the service layer once the books moved under one of this unit of work's postings: from then on its
    # postings are checked by the domain before they are written (see `AbstractLedgerRepository.balances_to_check`).
    look_first: bool = False

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()  # a no-op after a commit

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
