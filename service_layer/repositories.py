"""The abstractions the service layer works with; `adapters/` implements them on SQLAlchemy, tests on dicts."""

from __future__ import annotations

import abc
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from domain import inventory
from domain.carts import Cart, Customer
from domain.clock import GameTime
from domain.ledger import AccountRef, PostedTransaction, Transaction
from domain.market import Records
from domain.metrics import Metric, MetricsQuery
from domain.planners import Shelf
from domain.potions import Barrel, Potion, PotionType
from domain.sales import Cursor, SaleLine, SearchQuery, SoldLine
from service_layer.idempotency import RequestKey


class AbstractCartRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, cart: Cart, game_time: GameTime | None = None) -> None:
        """Store a new cart, stamped with the game time; its cart_id is set on return."""

    @abc.abstractmethod
    def get(self, cart_id: int) -> Cart | None:
        """The cart, locked against concurrent changes until the unit of work ends; what the domain changes on it
        is written with the commit."""

    @abc.abstractmethod
    def close_open_carts(self) -> int:
        """Close every open cart; return how many."""


class AbstractPotionRepository(abc.ABC):
    @abc.abstractmethod
    def list(self) -> list[Potion]:
        """Every potion the shop sells, by sku."""

    def get(self, sku: str) -> Potion | None:
        return next((p for p in self.list() if p.sku == sku), None)

    def by_type(self, potion_type: PotionType) -> Potion | None:
        return next((p for p in self.list() if p.potion_type == potion_type), None)


class AbstractLedgerRepository(abc.ABC):
    """The books: transactions appended, never changed. The repository is where the domain's rules on balances
    (`domain.inventory.check_covers`) are held against the balances as they are, so no two units of work can both
    pass them on the same balances."""

    def __init__(self) -> None:
        self.posted = 0  # how many transactions this unit of work appended

    def add(self, txn: Transaction, request: RequestKey | None, capacity: bool = True) -> None:
        """Append `txn`, stamped with the game's time and `request`, if the domain's rules hold for it (with
        `capacity`, the capacity rule too), and raise the domain's refusal if they do not. A transaction that moves
        nothing is not booked (the request's reply alone records that it was answered). Nothing in this unit of
        work reads it back: a repository may write it with the commit."""
        if txn.entries:
            self._add(txn, request, capacity)
            self.posted += 1

    def post(self, txn: Transaction, request: RequestKey | None, capacity: bool = True) -> PostedTransaction:
        """`add`, read back as posted (id, time, running balances)."""
        if not txn.entries:
            raise ValueError("a transaction that moves nothing is not booked")
        posted = self._post(txn, request, capacity)
        self.posted += 1
        return posted

    def check(self, txn: Transaction, capacity: bool) -> None:
        """Hold `txn` to the domain's rules on locked balances (`lock`): the accounts it moves and, only where the
        capacity rule can refuse it, every shop account (so checkouts and corrections do not wait on the whole
        shop)."""
        whole_shop = capacity and inventory.touches_capacity(txn)
        inventory.check_covers(txn, self.lock((e.account for e in txn.entries), whole_shop), capacity)

    def _add(self, txn: Transaction, request: RequestKey | None, capacity: bool) -> None:
        self._post(txn, request, capacity)

    @abc.abstractmethod
    def _post(self, txn: Transaction, request: RequestKey | None, capacity: bool) -> PostedTransaction:
        """Check (`check`), stamp, append."""

    @abc.abstractmethod
    def lock(self, accounts: Iterable[AccountRef] = (), whole_shop: bool = True) -> dict[AccountRef, int]:
        """Lock `accounts` (opening missing ones) and, with `whole_shop`, every account of the shop, until the unit
        of work ends, in one fixed order, and return their balances: a check against them cannot be raced."""

    @abc.abstractmethod
    def balances(self, owner: str | None = None, at: datetime | None = None) -> dict[AccountRef, int]:
        """The balance of every account of `owner` (of everyone if None; 0 for accounts with no entries), now or
        as it was at `at` (naive UTC)."""

    @abc.abstractmethod
    def history(
        self,
        account: AccountRef | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[PostedTransaction]:
        """Transactions newest first (by id): touching `account`, made in [since, until], with ids below `before`."""


class AbstractSalesRepository(abc.ABC):
    @abc.abstractmethod
    def add(self, lines: Sequence[SaleLine], sale: RequestKey) -> None:
        """Record the lines a checkout sold, stamped with the sale transaction its request key `sale` posted in this
        unit of work (its id, time and game time): the sale need not have been read back."""

    @abc.abstractmethod
    def search(self, query: SearchQuery, cursor: Cursor | None, limit: int) -> list[SoldLine]:
        """Up to `limit` lines matching `query`, in the order of the scan: from the start of the sort order (no
        cursor), or outward from the cursor's position, excluding it: forward in sort order, or backward (then the
        nearest line before the position comes first)."""


class AbstractVisitRepository(abc.ABC):
    @abc.abstractmethod
    def add(
        self,
        visit_id: str,
        customers: Sequence[Customer],
        game_time: GameTime | None,
        shown: Sequence[tuple[str, int, int]] = (),
    ) -> None:
        """Record who visited and what the catalog showed them: (sku, price, quantity) lines."""


class AbstractClock(abc.ABC):
    @abc.abstractmethod
    def now(self) -> GameTime | None:
        """The latest game time the exchange told the shop, if any."""

    @abc.abstractmethod
    def set(self, game_time: GameTime) -> None:
        """Record a new tick (appended: the clock's history is kept)."""


class AbstractOfferRepository(abc.ABC):
    @abc.abstractmethod
    def record(self, offers: Sequence[Barrel]) -> None:
        """Record the wholesale catalog the exchange offered at the current game tick; an offer of a sku already
        recorded at this tick is not recorded again. Before the game's first tick there is no
        tick to record them at: nothing is recorded."""


class AbstractMetricsRepository(abc.ABC):
    @abc.abstractmethod
    def rows(self, metric: Metric, query: MetricsQuery) -> list[dict[str, Any]]:
        """The metric's rows over the part of the history `query` names, in the metric's order (see
        `adapters/metrics.py` for the columns and the SQL of each)."""


class AbstractShelfRepository(abc.ABC):
    @abc.abstractmethod
    def record(self, shelf: Shelf) -> None:
        """Record the shelf chosen at the current game tick (before the game's first tick there is none to record it
        at: nothing is recorded)."""

    @abc.abstractmethod
    def current(self) -> Shelf | None:
        """The latest tick's shelf, if any tick has one."""


class AbstractMarketRepository(abc.ABC):
    @abc.abstractmethod
    def records(self) -> Records:
        """What the shop recorded of the game since the last reset (its ticks, visitors, what they were shown and
        bought, the barrels on offer), at most the last `HISTORY_TICKS` ticks of it."""


HISTORY_TICKS = 2 * 84  # two weeks of ticks: what the planners learn from at most
