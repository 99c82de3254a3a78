"""One function per use case that changes the shop. Primitives in, a `Reply` out, the unit of work last.

A use case loads what it needs through the repositories, lets the domain decide, records the outcome and commits.
With a request key it does so once (`_once`): a retry gets the stored reply back; the effects and the reply commit
together. A refusal raises before the commit, so nothing of it (not even the key) is kept, and a corrected retry
may succeed. A service scopes its own key and fingerprints its own arguments (the payload exactly as the route
received it, so the fingerprints of requests stored before stay valid).

Locks are taken in one order: the request key where the repository makes twins wait on it, then carts, then the
accounts a transaction moves (by id, in one statement), so two services may wait for each other but never
deadlock.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from domain import ledger, planners
from domain.carts import Cart, CartLine, Customer
from domain.clock import GameTime
from domain.errors import CartNotFound, UnknownAccount, UnknownPotionType, UnknownSku
from domain.potions import Barrel, PotionType
from domain.sales import SaleLine
from service_layer import views
from service_layer.idempotency import Reply, RequestAlreadyProcessed, RequestKey, Scope, fingerprint
from service_layer.unit_of_work import AbstractUnitOfWork

OPENING_KEY = RequestKey(Scope.OPENING, "opening")


def _key(scope: Scope, value: str | None) -> RequestKey | None:
    return RequestKey(scope, value) if value is not None else None


def _once(key: RequestKey | None, payload: object, uow: AbstractUnitOfWork, work: Callable[[], Reply]) -> Reply:
    """Do `work` at most once per key: replay the stored reply if the key was processed (a retry is the same
    request when its `payload` has the same fingerprint), else run it and store its reply with its effects."""
    digest = fingerprint(payload) if payload is not None else ""  # the opening has no payload

    def attempt() -> Reply:
        if key is not None and (earlier := uow.processed_requests.get(key)) is not None:
            return earlier.replay(digest)
        reply = work()
        if key is not None:
            uow.processed_requests.add(key, digest, reply, moved=uow.ledger.posted > 0)
        uow.commit()
        return reply

    try:
        return uow.run(attempt)
    except RequestAlreadyProcessed as taken:  # a twin committed first: its reply stands, nothing of ours was kept
        return taken.earlier.replay(digest)


def _reset(uow: AbstractUnitOfWork, key: RequestKey | None, kind: str) -> None:
    # The world's side of everything the shop holds or could come to hold is opened and locked up front, in the one
    # lock statement: the posting then opens and locks nothing new. (Opening an account while holding the shop's
    # locks could wait for another poster that opened the same account and waits for those locks: a deadlock.)
    held = {a.commodity for a in uow.ledger.balances(ledger.SHOP)}
    everything = held | set(ledger.commodities(p.sku for p in uow.potions.list()))
    balances = uow.ledger.lock(ledger.AccountRef(ledger.WORLD, c) for c in sorted(everything))
    uow.ledger.add(ledger.reset(balances, kind), key)


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

    def work() -> views.Situation:
        uow.offers.record(offers)
        now = views.situation(uow)
        uow.commit()
        return now

    now = uow.run(work)
    plan = planners.plan_barrels(now.forecast, now.inventory, offers, now.chosen)
    return [{"sku": sku, "quantity": k} for sku, k in plan]


def deliver_barrels(order_id: str, barrels: Sequence[Barrel], uow: AbstractUnitOfWork) -> Reply:
    key = RequestKey(Scope.BARRELS, order_id)

    def work() -> Reply:
        uow.ledger.add(ledger.barrel_purchase(barrels), key)
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
        uow.ledger.add(ledger.bottling(batches), key)
        return Reply.empty()

    return _once(key, list(mixes), uow, work)


def deliver_capacity(order_id: str, potion_units: int, ml_units: int, uow: AbstractUnitOfWork) -> Reply:
    key = RequestKey(Scope.CAPACITY, order_id)

    def work() -> Reply:
        uow.ledger.add(ledger.capacity_purchase(potion_units, ml_units), key)
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
        uow.ledger.add(ledger.sale(cart_id, [(s.sku, s.quantity, s.unit_price) for s in lines], payment), key)
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
        posted = uow.ledger.post(ledger.correction(ref, change, reason), key, capacity=False)  # its change is never 0
        return Reply.json(
            {
                "transaction_id": posted.id,
                "account": str(ref),
                "change": change,
                "balance": uow.ledger.balances(ref.owner)[ref],
            }
        )

    return _once(key, {"account": account, "change": change, "reason": reason}, uow, work)
