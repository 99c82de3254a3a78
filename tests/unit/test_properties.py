"""Random sequences of operations, on fakes: every transaction balances, no shop balance goes below zero, a refusal
changes nothing, a retry replays, and the audit always equals an independent tally."""

import json
from collections import Counter

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from domain import inventory, ledger
from domain.errors import IdempotencyKeyReused, ShopError
from domain.potions import COLOURS, DEFAULT_POTIONS, Barrel
from service_layer import services, views
from service_layer.idempotency import fingerprint
from tests.fakes import FakeUnitOfWork
from tests.helpers import ALICE

colours = st.sampled_from(
    [(1.0, 0.0, 0.0, 0.0), (0.0, 1.0, 0.0, 0.0), (0.0, 0.0, 1.0, 0.0), (0.0, 0.0, 0.0, 1.0), (0.5, 0.0, 0.5, 0.0)]
)
barrels = st.builds(
    Barrel,
    sku=st.sampled_from(["A", "B"]),
    ml_per_barrel=st.sampled_from([200, 500, 2500]),
    potion_type=colours,
    price=st.integers(0, 150),
    quantity=st.integers(0, 4),
)
potion_types = st.sampled_from([p.potion_type for p in DEFAULT_POTIONS])
order_ids = st.sampled_from([str(i) for i in range(6)])


class Shop(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.uow = FakeUnitOfWork()
        services.open_shop(self.uow)
        self.tally = {"gold": 100, "ml": 0, "potions": 0}
        self.done: dict[tuple[str, str], str] = {}  # (route, key) -> fingerprint of the call that took effect

    def attempt(self, key, fp, call, effect):  # type: ignore[no-untyped-def]
        before = list(self.uow.store.transactions)
        earlier = self.done.get(key)
        try:
            reply = call()
        except IdempotencyKeyReused:
            assert earlier is not None and earlier != fp, "only a used key with another payload is refused so"
            assert self.uow.store.transactions == before, "a refusal changed the ledger"
            return
        except ShopError:
            assert earlier is None, "a processed key must replay, not be refused"
            assert self.uow.store.transactions == before, "a refusal changed the ledger"
            return
        if earlier is not None:
            assert reply.replayed and earlier == fp, "a processed key with its payload must replay"
            assert self.uow.store.transactions == before, "a replay changed the ledger"
            return
        assert not reply.replayed
        self.done[key] = fp
        for name, n in effect().items():
            self.tally[name] += n

    @rule(order_id=order_ids, bought=st.lists(barrels, max_size=3))
    def deliver_barrels(self, order_id, bought):  # type: ignore[no-untyped-def]
        fp = fingerprint(bought)
        self.attempt(
            ("barrels", order_id),
            fp,
            lambda: services.deliver_barrels(order_id, bought, self.uow),
            lambda: {"gold": -sum(b.cost for b in bought), "ml": sum(b.ml_per_barrel * b.quantity for b in bought)},
        )

    @rule(order_id=order_ids, mixes=st.lists(st.tuples(potion_types, st.integers(1, 30)), max_size=3))
    def deliver_bottles(self, order_id, mixes):  # type: ignore[no-untyped-def]
        fp = fingerprint(mixes)
        self.attempt(
            ("bottles", order_id),
            fp,
            lambda: services.deliver_bottles(order_id, mixes, self.uow),
            lambda: {"ml": -100 * sum(k for _, k in mixes), "potions": sum(k for _, k in mixes)},
        )

    @rule(order_id=order_ids, potion_units=st.integers(0, 2), ml_units=st.integers(0, 2))
    def deliver_capacity(self, order_id, potion_units, ml_units):  # type: ignore[no-untyped-def]
        fp = fingerprint([potion_units, ml_units])
        self.attempt(
            ("capacity", order_id),
            fp,
            lambda: services.deliver_capacity(order_id, potion_units, ml_units, self.uow),
            lambda: {"gold": -1000 * (potion_units + ml_units)},
        )

    @rule(sku=st.sampled_from([p.sku for p in DEFAULT_POTIONS]), quantity=st.integers(1, 8))
    def buy(self, sku, quantity):  # type: ignore[no-untyped-def]
        cart_id = json.loads(services.create_cart(ALICE, None, self.uow).body)["cart_id"]
        services.set_item_quantity(cart_id, sku, quantity, None, self.uow)
        price = {p.sku: p.price for p in DEFAULT_POTIONS}[sku]
        for _ in range(2):  # the second call is a retry
            self.attempt(
                ("checkout", str(cart_id)),
                "fp",
                lambda: services.checkout(cart_id, "coins", self.uow),
                lambda: {"gold": quantity * price, "potions": -quantity},
            )

    @rule()
    def reset(self):  # type: ignore[no-untyped-def]
        services.reset(None, self.uow)
        self.tally = {"gold": 100, "ml": 0, "potions": 0}

    @invariant()
    def every_transaction_balances(self):  # type: ignore[no-untyped-def]
        for txn in self.uow.transactions():
            net: Counter[str] = Counter()
            for entry in txn.entries:
                net[entry.account.commodity] += entry.change
            assert not any(net.values())

    @invariant()
    def no_shop_balance_is_negative_and_capacity_holds(self):  # type: ignore[no-untyped-def]
        balances = self.uow.ledger.balances(ledger.SHOP)
        assert all(n >= 0 for n in balances.values()), balances
        stock = inventory.Inventory.from_balances(balances)
        assert stock.total_potions <= stock.potion_limit
        assert stock.total_ml <= stock.ml_limit
        assert set(stock.ml) == set(COLOURS)

    @invariant()
    def the_audit_equals_an_independent_tally(self):  # type: ignore[no-untyped-def]
        audit = views.audit(None, self.uow)
        assert (audit["gold"], audit["ml_in_barrels"], audit["number_of_potions"]) == (
            self.tally["gold"],
            self.tally["ml"],
            self.tally["potions"],
        )


Shop.TestCase.settings = settings(max_examples=60, stateful_step_count=25, deadline=None)
TestShop = Shop.TestCase
