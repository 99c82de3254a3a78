"""One function per use case that changes the shop. Primitives in, a `Reply` out, the unit of work last.

A service scopes its own idempotency key and fingerprints its own arguments (the payload exactly as the route
received it, so the fingerprints of requests stored before stay valid).

Every service runs in one unit of work and takes its locks in one order: the request key where it is claimed
(SQLite, the fakes), then carts, then, where keys are guessed new (PostgreSQL), the stored reply's unique key, which
a twin waits on, then the accounts its transaction moves (and every shop account when the capacity rule can refuse
it), by id and in one statement, so two services may wait for each other but never deadlock. With a request key the
work is done once: the earlier reply is replayed if the key was seen, otherwise the effects and the reply are
committed together. A refusal raises before the commit, so nothing of it (not even the key) is kept, and a corrected
retry may succeed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain import inventory, ledger, planners
from domain.carts import Cart, CartLine, Customer
from domain.clock import GameTime
from domain.errors import CartNotFound, ShopError, UnknownAccount, UnknownPotionType, UnknownSku
from domain.potions import Barrel, PotionType
from domain.sales import SaleLine
from service_layer import views
from service_layer.idempotency import Reply, RequestAlreadyProcessed, RequestKey, Scope, fingerprint
from service_layer.unit_of_work import AbstractUnitOfWork, BooksMoved

OPENING_KEY = RequestKey(Scope.OPENING, "opening")


def _key(scope: Scope, value: str | None) -> RequestKey | None:
    return RequestKey(scope, value) if value is not None else None


RERUNS = 10  # how often a use case is run again when the books moved under its snapshot (see `BooksMoved`)


def _once(key: RequestKey | None, payload: object, uow: AbstractUnitOfWork, work: Callable[[], Reply]) -> Reply:
    """Do `work` inside `uow` at most once per key; store and commit its reply with its effects. A retry is the same
    request when its `payload` (the service's own arguments, as the route received them) has the same
    fingerprint. If the books moved under a posting of `work`'s (written unchecked, or checked on a snapshot), it
    runs again from the start, and the domain checks its postings on the balances as they are.

    Where the repository guesses keys new (`AbstractProcessedRequests.guesses`: its commit refuses a key a twin
    took), a refusal is only the answer once the key is found unprocessed: a twin's success, committed with its
    reply, may be what the work was refused on (the cart it checked out, the stock it sold)."""
    digest = fingerprint(payload) if payload is not None else ""  # the opening has no payload
    refusal: ShopError | None = None
    for attempt in range(1, RERUNS + 1):
        with uow:
            if key is not None and (earlier := uow.processed_requests.claim(key, guess=True)) is not None:
                return earlier.replay(digest)
            try:
                reply = work()
                if key is not None:
                    uow.processed_requests.record(key, digest, reply, moved=uow.ledger.posted > 0)
                uow.commit()
                return reply
            except BooksMoved:
                if attempt == RERUNS:
                    raise
                uow.look_first = True  # the domain checks the next attempt's postings on the balances as they are
                continue  # leaving `uow` rolls back: nothing of this attempt is kept
            except RequestAlreadyProcessed:
                uow.rollback()  # a twin committed first: our effects go, its reply stands
                break
            except ShopError as error:
                if key is None or not uow.processed_requests.guesses:
                    raise  # the key was claimed: no twin could have committed it meanwhile
                refusal = error
                break  # leaving `uow` rolls back
    with uow:
        earlier = uow.processed_requests.claim(key)  # type: ignore[arg-type]
        if earlier is None and refusal is not None:
            raise refusal  # the key is unprocessed: the refusal stands
        assert earlier is not None, "a key that was taken cannot vanish: processed_requests is append-only"
        return earlier.replay(digest)


def _post(
    uow: AbstractUnitOfWork, txn: ledger.Transaction, key: RequestKey | None, capacity: bool = True
) -> ledger.PostedTransaction | None:
    """Check `txn` against the balances of the accounts it moves (every shop account's too, if the capacity rule
    applies) and append it, stamped with the game time; return it as posted. A transaction that moves nothing (an
    empty delivery, an empty cart's checkout, a reset of a shop as it started) is not booked: the request's reply
    alone records that it was answered."""
    if (whole_shop := _check(uow, txn, capacity)) is None:
        return None
    return uow.ledger.add(txn, uow.clock.now(), key, capacity=whole_shop)


def _append(uow: AbstractUnitOfWork, txn: ledger.Transaction, key: RequestKey | None) -> None:
    """`_post`, for a transaction nothing reads back (a delivery's, a sale's, a reset's): the repository may write it
    with the commit, and stamp it with the clock's time as the write finds it."""
    if (whole_shop := _check(uow, txn, capacity=True)) is not None:
        uow.ledger.append(txn, uow.clock, key, capacity=whole_shop)


def _check(uow: AbstractUnitOfWork, txn: ledger.Transaction, capacity: bool) -> bool | None:
    """Refuse `txn` if the domain's rules do not hold for it; return whether its write must cover the whole shop
    (None: it moves nothing, and is not booked). Only a transaction the capacity rule can refuse needs (and locks)
    every shop account; any other locks just the accounts it moves, so checkouts and corrections do not wait on the
    whole shop. Where the write checks the rules itself, the balances are looked at only once the books moved
    under one of this unit of work's postings (`look_first`): a refusal is still the domain's."""
    if not txn.entries:
        return None
    whole_shop = capacity and inventory.touches_capacity(txn)
    accounts = (e.account for e in txn.entries)
    if (balances := uow.ledger.balances_to_check(accounts, whole_shop, look=uow.look_first)) is not None:
        inventory.check_covers(txn, balances, capacity)
    return whole_shop


def _reset(uow: AbstractUnitOfWork, key: RequestKey | None, kind: str) -> None:
    # The world's side of everything the shop holds or could come to hold is opened and locked up front, in the one
    # lock statement: `_post` then opens and locks nothing new. (Opening an account while holding the shop's locks
    # could wait for another poster that opened the same account and waits for those locks: a deadlock.)
    held = {a.commodity for a in uow.ledger.balances(ledger.SHOP)}
    everything = held | set(ledger.commodities(p.sku for p in uow.potions.list()))
    balances = uow.ledger.lock(ledger.AccountRef(ledger.WORLD, c) for c in sorted(everything))
    _append(uow, ledger.reset(balances, kind), key)


def open_shop(uow: AbstractUnitOfWork) -> Reply:
    """Give a brand-new shop its starting stock (once, however many processes start at the same time)."""

    def work() -> Reply:
        _reset(uow, OPENING_KEY, "opening")
        return Reply.empty()

    return _once(OPENING_KEY, None, uow, work)


def reset(idempotency_key: str | None, uow: AbstractUnitOfWork) -> Reply:
    key = _key(Scope.RESET, idempotency_key)

    def work() -> Reply:
        uow.carts.close_open_carts()  # carts before accounts: the lock order every service keeps
        _reset(uow, key, "reset")
        return Reply.empty()

    return _once(key, {}, uow, work)


def set_time(day: str, hour: int, idempotency_key: str | None, uow: AbstractUnitOfWork) -> Reply:
    def work() -> Reply:
        uow.clock.set(GameTime(day, hour))
        uow.shelf.record(planners.plan_shelf(*views.forecast(uow)))
        return Reply.empty()

    return _once(_key(Scope.CLOCK, idempotency_key), {"day": day, "hour": hour}, uow, work)


def plan_barrels(offers: Sequence[Barrel], uow: AbstractUnitOfWork) -> list[dict[str, Any]]:
    """Which barrels to buy from the exchange's wholesale catalog (as `views` plans it: the books do not move), and
    the catalog recorded at the current game tick, once per tick and sku, for the metrics. No idempotency key: a
    repeated plan in the same tick records nothing more, and its reply is computed afresh."""
    with uow:
        uow.offers.record(offers)
        plan = views.barrel_plan(offers, uow)
        uow.commit()
    return plan


def deliver_barrels(order_id: str, barrels: Sequence[Barrel], uow: AbstractUnitOfWork) -> Reply:
    key = RequestKey(Scope.BARRELS, order_id)

    def work() -> Reply:
        _append(uow, ledger.barrel_purchase(barrels), key)
        return Reply.empty()

    return _once(key, list(barrels), uow, work)


def deliver_bottles(order_id: str, mixes: Sequence[tuple[PotionType, int]], uow: AbstractUnitOfWork) -> Reply:
    key = RequestKey(Scope.BOTTLES, order_id)

    def work() -> Reply:
        batches = []
        for potion_type, quantity in mixes:
            potion = uow.potions.by_type(potion_type)
            if potion is None:
                raise UnknownPotionType(potion_type.as_list())
            batches.append((potion.sku, potion_type, quantity))
        _append(uow, ledger.bottling(batches), key)
        return Reply.empty()

    return _once(key, list(mixes), uow, work)


def deliver_capacity(order_id: str, potion_units: int, ml_units: int, uow: AbstractUnitOfWork) -> Reply:
    key = RequestKey(Scope.CAPACITY, order_id)

    def work() -> Reply:
        _append(uow, ledger.capacity_purchase(potion_units, ml_units), key)
        return Reply.empty()

    return _once(key, {"potion_capacity": potion_units, "ml_capacity": ml_units}, uow, work)


def record_visit(visit_id: str, customers: Sequence[Customer], uow: AbstractUnitOfWork) -> Reply:
    def work() -> Reply:
        shown = [(item["sku"], item["price"], item["quantity"]) for item in views.catalog_items(uow)]
        uow.visits.add(visit_id, customers, uow.clock.now(), shown)
        return Reply.empty()

    return _once(RequestKey(Scope.VISITS, visit_id), list(customers), uow, work)


def create_cart(customer: Customer, idempotency_key: str | None, uow: AbstractUnitOfWork) -> Reply:
    def work() -> Reply:
        cart = Cart(customer)
        uow.carts.add(cart, uow.clock.now())
        return Reply.json({"cart_id": cart.cart_id})

    return _once(_key(Scope.CARTS, idempotency_key), customer, uow, work)


def _cart(uow: AbstractUnitOfWork, cart_id: int) -> Cart:
    cart = uow.carts.get(cart_id)
    if cart is None:
        raise CartNotFound(cart_id)
    return cart


def set_item_quantity(
    cart_id: int, sku: str, quantity: int, idempotency_key: str | None, uow: AbstractUnitOfWork
) -> Reply:
    def work() -> Reply:
        cart = _cart(uow, cart_id)
        if uow.potions.get(sku) is None:
            raise UnknownSku(sku)
        cart.set_quantity(sku, quantity)
        return Reply.empty()

    payload = {"cart_id": cart_id, "sku": sku, "quantity": quantity}
    return _once(_key(Scope.CART_ITEMS, idempotency_key), payload, uow, work)


def checkout(cart_id: int, payment: str, uow: AbstractUnitOfWork) -> Reply:
    key = RequestKey(Scope.CHECKOUT, str(cart_id))

    def work() -> Reply:
        cart = _cart(uow, cart_id)
        potions = {p.sku: p for p in uow.potions.list()}

        def sold(line: CartLine) -> SaleLine:  # at the catalog's price now (the list price if no shelf says)
            price = line.unit_price if line.unit_price is not None else potions[line.sku].price
            return SaleLine(cart_id, line.sku, potions[line.sku].name, line.quantity, price, cart.customer)

        lines = [sold(line) for line in cart.check_out(payment)]
        _append(uow, ledger.sale(cart_id, [(s.sku, s.quantity, s.unit_price) for s in lines], payment), key)
        uow.sales.add(lines, key)  # the sales record, stamped with the sale, in the same transaction as its entries
        return Reply.json(
            {"total_potions_bought": sum(s.quantity for s in lines), "total_gold_paid": sum(s.total for s in lines)}
        )

    return _once(key, {"payment": payment}, uow, work)


def correct(account: str, change: int, reason: str, idempotency_key: str, uow: AbstractUnitOfWork) -> Reply:
    """Append a correcting transaction between `account` ("owner/commodity") and the adjustments account. It may not
    drive a shop balance below zero; it may exceed capacity, since it records what is really there."""
    key = RequestKey(Scope.CORRECTIONS, idempotency_key)

    def work() -> Reply:
        try:
            ref = ledger.AccountRef.parse(account)
        except ValueError:
            raise UnknownAccount(account) from None
        if (
            ref.owner not in ledger.OWNERS
            or ref.owner == ledger.ADJUSTMENTS
            or not ledger.is_commodity(ref.commodity, (p.sku for p in uow.potions.list()))
        ):
            raise UnknownAccount(account)
        posted = _post(uow, ledger.correction(ref, change, reason), key, capacity=False)
        assert posted is not None, "a correction always moves something: its change is never 0"
        return Reply.json(
            {
                "transaction_id": posted.id,
                "account": str(ref),
                "change": change,
                "balance": uow.ledger.balances(ref.owner)[ref],
            }
        )

    return _once(key, {"account": account, "change": change, "reason": reason}, uow, work)
