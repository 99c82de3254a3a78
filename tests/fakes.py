"""In-memory fakes of every repository and of the unit of work: one thin fake per port, for the write side (postings
and the balances now, carts, processed requests, the clock, offers, the shelf, the records the planner learns from).
The read side (metrics, order search, history, balances at a past moment) is SQL, tested on SQLite and PostgreSQL
(tests/integration): here every metric is empty, and the other reads are refused.

`FakeUnitOfWork` works on a copy of its store and swaps the copy in on commit, so `rollback` really discards what
the unit of work staged: a refused request changes nothing, and unit tests can see that.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from domain.carts import Cart, CartLine, Customer
from domain.clock import GameTime, utcnow
from domain.ledger import SHOP, AccountRef, PostedEntry, PostedTransaction, Transaction
from domain.market import Records
from domain.metrics import Metric, MetricsQuery
from domain.planners import Shelf
from domain.potions import BLENDS, DEFAULT_POTIONS, Barrel, Potion
from domain.sales import Cursor, SaleLine, SearchQuery, SoldLine
from service_layer.idempotency import (
    AbstractProcessedRequests,
    ProcessedRequest,
    Reply,
    RequestKey,
)
from service_layer.repositories import (
    HISTORY_TICKS,
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
from service_layer.unit_of_work import AbstractUnitOfWork


def _clone(cart: Cart) -> Cart:
    copy = Cart(cart.customer, cart.cart_id)
    copy.lines = [CartLine(line.sku, line.quantity, line.unit_price) for line in cart.lines]
    copy.status, copy.payment = cart.status, cart.payment
    return copy


@dataclass
class FakeStore:
    """What a database would hold. Immutable records are shared between copies; carts are cloned."""

    potions: list[Potion] = field(default_factory=lambda: [*DEFAULT_POTIONS, *BLENDS])
    transactions: list[PostedTransaction] = field(default_factory=list)
    accounts: set[AccountRef] = field(default_factory=set)
    processed: dict[RequestKey, ProcessedRequest] = field(default_factory=dict)
    carts: dict[int, Cart] = field(default_factory=dict)
    visits: list[tuple[str, tuple[Customer, ...], GameTime | None]] = field(default_factory=list)
    ticks: list[GameTime] = field(default_factory=list)
    sales: list[SoldLine] = field(default_factory=list)
    totals: Counter[AccountRef] = field(default_factory=Counter)  # every account's balance now (a sum kept up)
    tick_times: list[datetime] = field(default_factory=list)  # when each of `ticks` was set
    visit_times: list[datetime] = field(default_factory=list)  # when each of `visits` was recorded
    offers: list[RecordedOffer] = field(default_factory=list)
    shown: list[tuple[datetime, str, int, int]] = field(default_factory=list)  # what visits were shown, when
    shelves: list[tuple[int, Shelf]] = field(default_factory=list)  # (the index of its tick in `ticks`, shelf)

    def copy(self) -> FakeStore:
        return FakeStore(
            list(self.potions),
            list(self.transactions),
            set(self.accounts),
            dict(self.processed),
            {i: _clone(c) for i, c in self.carts.items()},
            list(self.visits),
            list(self.ticks),
            list(self.sales),
            Counter(self.totals),
            list(self.tick_times),
            list(self.visit_times),
            list(self.offers),
            list(self.shown),
            list(self.shelves),
        )


@dataclass(frozen=True)
class RecordedOffer:
    tick: int  # the index of its tick in `FakeStore.ticks`
    game_time: GameTime
    barrel: Barrel
    created_at: datetime


class FakeLedgerRepository(AbstractLedgerRepository):
    """Balances now are plain sums here; the running balances, the history and the balances at a past moment are
    what `tests/integration` checks on real databases."""

    def __init__(self, store: FakeStore) -> None:
        super().__init__()
        self.store = store

    def _post(self, txn: Transaction, request: RequestKey | None, capacity: bool) -> PostedTransaction:
        self.check(txn, capacity)
        game_time = FakeClock(self.store).now()
        self.store.accounts.update(e.account for e in txn.entries)
        running = self.balances()
        entries = []
        for entry in txn.entries:
            running[entry.account] += entry.change
            entries.append(PostedEntry(entry.account, entry.change, running[entry.account]))
        created_at = max([utcnow(), *(p.created_at for p in self.store.transactions[-1:])])
        posted = PostedTransaction(
            len(self.store.transactions) + 1,
            created_at,
            txn.kind,
            txn.description,
            game_time,
            request.route if request else None,
            request.value if request else None,
            tuple(entries),
        )
        self.store.transactions.append(posted)
        for entry in posted.entries:  # (an account may have several entries in one transaction)
            self.store.totals[entry.account] += entry.change
        return posted

    def lock(self, accounts: Iterable[AccountRef] = (), whole_shop: bool = True) -> dict[AccountRef, int]:
        accounts = set(accounts)
        self.store.accounts.update(accounts)  # opened, as the database opens missing accounts when it locks them
        everyone = self.balances()
        return {a: everyone.get(a, 0) for a in {*(self.balances(SHOP) if whole_shop else ()), *accounts}}

    def balances(self, owner: str | None = None, at: datetime | None = None) -> dict[AccountRef, int]:
        """The balances now: the sum of every entry, kept up as they are added (at a past moment: the database's)."""
        if at is not None:
            raise NotImplementedError("the read side is tested on real databases: tests/integration")
        totals: Counter[AccountRef] = Counter({a: 0 for a in self.store.accounts if owner in (None, a.owner)})
        totals.update({a: n for a, n in self.store.totals.items() if owner in (None, a.owner)})
        return dict(totals)

    def history(
        self,
        account: AccountRef | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[PostedTransaction]:
        raise NotImplementedError("the read side is tested on real databases: tests/integration")


class FakePotionRepository(AbstractPotionRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def list(self) -> list[Potion]:
        return sorted(self.store.potions, key=lambda p: p.sku)


class FakeCartRepository(AbstractCartRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, cart: Cart, game_time: GameTime | None = None) -> None:
        cart.cart_id = max(self.store.carts, default=0) + 1
        self.store.carts[cart.cart_id] = cart

    def get(self, cart_id: int) -> Cart | None:
        cart = self.store.carts.get(cart_id)
        if cart is not None:  # priced as the catalog prices them now, as the database reads them
            prices = self.store.shelves[-1][1].prices if self.store.shelves else {}
            list_prices = {p.sku: p.price for p in self.store.potions}
            for line in cart.lines:
                line.unit_price = prices.get(line.sku, list_prices.get(line.sku))
        return cart

    def close_open_carts(self) -> int:
        open_carts = [c for c in self.store.carts.values() if c.is_open]
        for cart in open_carts:
            cart.close()
        return len(open_carts)


class FakeSalesRepository(AbstractSalesRepository):
    """The lines sold, on a list; no search (the database's: tests/integration/test_sales.py)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, lines: Sequence[SaleLine], sale: RequestKey) -> None:
        if not lines:
            return
        posted = next(
            t for t in reversed(self.store.transactions) if (t.request_route, t.request_key) == (sale.route, sale.value)
        )
        for line in lines:
            self.store.sales.append(
                SoldLine(len(self.store.sales) + 1, line, posted.created_at, posted.game_time, posted.id, line.item_sku)
            )

    def search(self, query: SearchQuery, cursor: Cursor | None, limit: int) -> list[SoldLine]:
        raise NotImplementedError("the read side is tested on real databases: tests/integration")


class FakeVisitRepository(AbstractVisitRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(
        self,
        visit_id: str,
        customers: Sequence[Customer],
        game_time: GameTime | None,
        shown: Sequence[tuple[str, int, int]] = (),
    ) -> None:
        now = utcnow()
        self.store.visits.append((visit_id, tuple(customers), game_time))
        self.store.visit_times.append(now)
        self.store.shown.extend((now, sku, price, n) for sku, price, n in shown)


class FakeClock(AbstractClock):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def now(self) -> GameTime | None:
        return self.store.ticks[-1] if self.store.ticks else None

    def set(self, game_time: GameTime) -> None:
        self.store.ticks.append(game_time)
        self.store.tick_times.append(utcnow())


class FakeOfferRepository(AbstractOfferRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def record(self, offers: Sequence[Barrel]) -> None:
        if not self.store.ticks:
            return
        tick, now = len(self.store.ticks) - 1, utcnow()
        seen = {o.barrel.sku for o in self.store.offers if o.tick == tick}
        for barrel in offers:
            if barrel.sku not in seen:
                self.store.offers.append(RecordedOffer(tick, self.store.ticks[tick], barrel, now))
                seen.add(barrel.sku)


class FakeShelfRepository(AbstractShelfRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def record(self, shelf: Shelf) -> None:
        if self.store.ticks:
            self.store.shelves.append((len(self.store.ticks) - 1, shelf))

    def current(self) -> Shelf | None:
        return self.store.shelves[-1][1] if self.store.shelves else None


class FakeMarketRepository(AbstractMarketRepository):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def records(self) -> Records:
        resets = [t.created_at for t in self.store.transactions if t.kind in ("reset", "opening")]
        ticks = [
            (n, t.day, t.hour, at)
            for n, (t, at) in enumerate(zip(self.store.ticks, self.store.tick_times))
            if not resets or at >= resets[-1]
        ][-HISTORY_TICKS:]
        if not ticks:
            return Records()
        since, first = ticks[0][3], ticks[0][0]
        return Records(
            [(day, hour, at) for _, day, hour, at in ticks],
            [
                (at, c.character_class)
                for at, (_, customers, _) in zip(self.store.visit_times, self.store.visits)
                if at >= since
                for c in customers
            ],
            [row for row in self.store.shown if row[0] >= since],
            [
                (s.sold_at, s.line.customer.character_class, s.line.sku, s.line.quantity, s.line.total, s.line.cart_id)
                for s in self.store.sales
                if s.sold_at >= since
            ],
            [(o.tick - first, o.barrel) for o in self.store.offers if o.tick >= first],
        )


class FakeMetricsRepository(AbstractMetricsRepository):
    """Every metric empty: each is one SQL text (`adapters/metrics.py`), tested where it runs, on SQLite and PostgreSQL
    (`tests/integration/test_metrics.py`, over HTTP `test_read_routes.py`). Empty rather than refused, so that an app
    over the fakes still answers the metrics routes (`tests/e2e/test_openapi.py` sends each its documented query)."""

    def rows(self, metric: Metric, query: MetricsQuery) -> list[dict[str, Any]]:
        return []


class FakeProcessedRequests(AbstractProcessedRequests):
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, key: RequestKey) -> ProcessedRequest | None:
        return self.store.processed.get(key)

    def add(self, key: RequestKey, fingerprint: str, reply: Reply, moved: bool) -> None:
        assert key not in self.store.processed, "units of work take turns here: a key is looked up first"
        self.store.processed[key] = ProcessedRequest(key, fingerprint, reply)


class FakeUnitOfWork(AbstractUnitOfWork):
    def __init__(self, store: FakeStore | None = None) -> None:
        self.store = store if store is not None else FakeStore()
        self.committed = False
        self._begin()

    def _begin(self) -> None:
        self.work = self.store.copy()
        self.ledger = FakeLedgerRepository(self.work)
        self.potions = FakePotionRepository(self.work)
        self.carts = FakeCartRepository(self.work)
        self.sales = FakeSalesRepository(self.work)
        self.visits = FakeVisitRepository(self.work)
        self.clock = FakeClock(self.work)
        self.offers = FakeOfferRepository(self.work)
        self.metrics = FakeMetricsRepository()
        self.processed_requests = FakeProcessedRequests(self.work)
        self.shelf = FakeShelfRepository(self.work)
        self.market = FakeMarketRepository(self.work)

    def __enter__(self) -> FakeUnitOfWork:
        self._begin()
        return self

    def commit(self) -> None:
        self.store.__dict__.update(self.work.__dict__)
        self.committed = True
        self._begin()

    def rollback(self) -> None:
        self._begin()

    def transactions(self, kind: str | None = None) -> list[PostedTransaction]:
        """Committed transactions (of one kind), oldest first."""
        return [p for p in self.store.transactions if kind is None or p.kind == kind]

    def requests(self) -> Iterable[RequestKey]:
        return self.store.processed.keys()
