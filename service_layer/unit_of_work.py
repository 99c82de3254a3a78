"""The unit of work: one database transaction, with every repository on it. Commit is explicit.

`adapters.unit_of_work.SqlAlchemyUnitOfWork` implements it on a database; `tests.fakes.FakeUnitOfWork` in memory.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Self, TypeVar

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


class ShopBusy(DatabaseUnavailable):
    """The shop had no turn free to write within its deadline: nothing was done, so the same request may be
    retried as it is."""


T = TypeVar("T")


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

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()  # a no-op after a commit

    def run(self, work: Callable[[], T]) -> T:
        """`work` in this unit of work (which it commits): what a use case does once. A backend that checks some
        writes only as they commit may run `work` again from the start, or answer a request from a twin's stored
        reply (`RequestAlreadyProcessed`), where the commit found that it has to (adapters.postgres)."""
        with self:
            return work()

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...
