"""The unit of work: one database transaction, with every repository on it. Commit is explicit."""
from __future__ import annotations

import abc
from collections.abc import Callable
from typing import Self

from sqlalchemy.orm import Session

from adapters import processed_requests, repositories
from service_layer.idempotency import AbstractProcessedRequests
from service_layer.repositories import (
    AbstractCartRepository,
    AbstractClock,
    AbstractLedgerRepository,
    AbstractPotionRepository,
    AbstractVisitRepository,
)


class AbstractUnitOfWork(abc.ABC):
    carts: AbstractCartRepository
    potions: AbstractPotionRepository
    ledger: AbstractLedgerRepository
    processed_requests: AbstractProcessedRequests
    visits: AbstractVisitRepository
    clock: AbstractClock

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.rollback()  # a no-op after a commit

    @abc.abstractmethod
    def commit(self) -> None: ...

    @abc.abstractmethod
    def rollback(self) -> None: ...


class SqlAlchemyUnitOfWork(AbstractUnitOfWork):
    def __init__(self, session_factory: Callable[[], Session]) -> None:
        self.session_factory = session_factory

    def __enter__(self) -> Self:
        self.session = self.session_factory()
        self.carts = repositories.SqlCartRepository(self.session)
        self.potions = repositories.SqlPotionRepository(self.session)
        self.ledger = repositories.SqlLedgerRepository(self.session)
        self.visits = repositories.SqlVisitRepository(self.session)
        self.clock = repositories.SqlClock(self.session)
        self.processed_requests = processed_requests.SqlProcessedRequests(self.session)
        return super().__enter__()

    def __exit__(self, *exc: object) -> None:
        super().__exit__(*exc)
        self.session.close()

    def commit(self) -> None:
        self.session.commit()

    def rollback(self) -> None:
        self.session.rollback()
