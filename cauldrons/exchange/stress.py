"""Race-and-retry stress: client processes fire a random mix of barrel, bottler and capacity deliveries and whole
sales (cart, item, checkout) at a shop served by gunicorn on PostgreSQL. Every keyed POST is sent 2-5 times at
once, sometimes with a changed payload among the copies. Afterwards the run is judged from the outside:

- each key took effect at most once, exactly when some copy got a 2xx (ledger transactions counted per key);
- all 2xx copies of a key carry the same payload and the same bytes; copies with the other payload got 422 (or,
  before the other one succeeded, a 409);
- the shop's balances equal the harness's own tally of what succeeded, computed from the payloads it sent;
- `ledger verify` finds no drift (so no balance went below zero at any point of history), and no answer was a 5xx.

`bench/stress.py` runs it against gunicorn on a throwaway database and prints its figures; tests/e2e/test_stress.py
runs a small version in CI.
"""

from __future__ import annotations

import json
import multiprocessing
import random
import time
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text

from adapters.db import make_engine
from adapters.verification import verify
from cauldrons.exchange.transport import HttpTransport
from service_layer.idempotency import Scope

COLOURS = ("red", "green", "blue", "dark")
PURE_POTIONS = {
    "red": ("RED_POTION", 50),
    "green": ("GREEN_POTION", 50),
    "blue": ("BLUE_POTION", 60),
    "dark": ("DARK_POTION", 75),
}  # the seeded one-colour potions: sku and price
# The status of success, by step (a sale's steps in their order).
SUCCESS = {"barrels": 204, "bottler": 204, "capacity": 204, "cart": 200, "item": 204, "checkout": 200}
LEDGER_ROUTE = {
    "barrels": Scope.BARRELS,
    "bottler": Scope.BOTTLES,
    "capacity": Scope.CAPACITY,
    "checkout": Scope.CHECKOUT,
}
STARTING_GOLD = 1_000_000


def _pure(colour: str, whole: int = 100) -> list[int]:
    """A one-colour potion type: parts of 100 for a recipe, fractions (whole=1) for a barrel."""
    return [whole if c == colour else 0 for c in COLOURS]


@dataclass
class Sent:
    """One copy of one keyed POST and what came back (status 0: the connection was lost)."""

    op: int
    step: str
    key: str
    variant: int
    status: int
    body: bytes
    replayed: bool
    seconds: float


@dataclass
class Plan:
    """One client's operations: (op number, kind, parameters)."""

    ops: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)


def make_plans(seed: int, clients: int, ops_per_client: int) -> list[Plan]:
    rng = random.Random(seed)
    plans = [Plan() for _ in range(clients)]
    number = 0
    for plan in plans:
        for _ in range(ops_per_client):
            kind = rng.choices(["barrels", "bottler", "capacity", "sale"], [25, 25, 10, 40])[0]
            colour = rng.choice(COLOURS)
            params: dict[str, Any] = {
                "colour": colour,
                "quantity": rng.randint(1, 4),
                "ml": rng.choice([100, 200, 500]),
                "price": rng.randint(1, 30),
                "units": (rng.randint(0, 1), rng.randint(0, 1)),
                "copies": rng.randint(2, 5),
                "mismatch": rng.random() < 0.2,
                "jitter": rng.random(),
            }
            plan.ops.append((number, kind, params))
            number += 1
    return plans


def _payload(kind: str, p: dict[str, Any], variant: int) -> Any:
    q = p["quantity"] + variant  # the changed payload asks for one more
    if kind == "barrels":
        return [
            {
                "sku": f"STRESS_{p['colour'].upper()}",
                "ml_per_barrel": p["ml"],
                "potion_type": _pure(p["colour"], 1),
                "price": p["price"],
                "quantity": q,
            }
        ]
    if kind == "bottler":
        return [{"potion_type": _pure(p["colour"]), "quantity": q}]
    if kind == "capacity":
        potion_units, ml_units = p["units"]
        return {"potion_capacity": potion_units + variant, "ml_capacity": ml_units}
    if kind == "cart":
        return {
            "customer_id": "c",
            "customer_name": f"Stress {variant}",
            "character_class": "Rogue",
            "character_species": "Gnome",
            "level": 3,
        }
    if kind == "item":
        return {"quantity": q}
    if kind == "checkout":
        return {"payment": "gold" if variant == 0 else "silver"}
    raise ValueError(kind)


class Sender:
    """Sends the copies of one keyed POST at once, from a pool of threads with a connection each."""

    def __init__(self, url: str, api_key: str, seed: int, threads: int = 5) -> None:
        self.client, self.rng = HttpTransport(url, api_key), random.Random(seed)  # a connection per thread
        self.pool = ThreadPoolExecutor(threads)
        self.log: list[Sent] = []

    def _one(self, op: int, step: str, path: str, key: str, variant: int, body: Any, delay: float) -> Sent:
        time.sleep(delay)
        try:
            answer = self.client.post(path, body, key)
        except OSError:
            return Sent(op, step, key, variant, 0, b"", False, 0.0)
        return Sent(op, step, key, variant, answer.status, answer.body, answer.replayed, answer.seconds)

    def send(self, op: int, step: str, path: str, kind: str, params: dict[str, Any]) -> list[Sent]:
        key = f"{step}-{op}"
        variants = [0] * params["copies"]
        if params["mismatch"]:
            variants[self.rng.randrange(len(variants))] = 1
        futures = [
            self.pool.submit(
                self._one,
                op,
                step,
                path,
                key,
                v,
                _payload(kind, params, v),
                self.rng.random() * 0.005 * params["jitter"],
            )
            for v in variants
        ]
        sent = [f.result() for f in futures]
        self.log.extend(sent)
        return sent


def _winner(sent: list[Sent], step: str) -> Sent | None:
    return next((s for s in sent if s.status == SUCCESS[step]), None)


def run_client(url: str, api_key: str, plan: Plan, seed: int) -> list[Sent]:
    sender = Sender(url, api_key, seed)
    for op, kind, p in plan.ops:
        if kind != "sale":
            path = {"barrels": "/barrels/deliver/", "bottler": "/bottler/deliver/", "capacity": "/inventory/deliver/"}[
                kind
            ] + f"order-{op}"
            sender.send(op, kind, path, kind, p)
            continue
        cart = _winner(sender.send(op, "cart", "/carts/", "cart", p), "cart")
        if cart is None:
            continue
        cart_id = json.loads(cart.body)["cart_id"]
        sku = PURE_POTIONS[p["colour"]][0]
        if _winner(sender.send(op, "item", f"/carts/{cart_id}/items/{sku}", "item", p), "item") is None:
            continue
        sender.send(op, "checkout", f"/carts/{cart_id}/checkout", "checkout", p)
    sender.pool.shutdown()
    return sender.log


@dataclass
class Verdict:
    requests: int
    seconds: float
    latencies: list[float]
    problems: list[str]
    applied: int
    replayed: int
    mismatches_refused: int
    refused_409: int
    statuses: Counter[int]

    @property
    def ok(self) -> bool:
        return not self.problems


def _shop_balances(client: HttpTransport) -> dict[str, int]:
    accounts = client.get("/ledger/accounts").json()["accounts"]
    return {a["commodity"]: a["balance"] for a in accounts if a["owner"] == "shop" and a["balance"]}


def judge(
    plans: list[Plan],
    log: list[Sent],
    before: dict[str, int],
    after: dict[str, int],
    transactions_per_key: dict[tuple[str | None, str], int],
    seconds: float,
    verify_ok: bool,
    verify_lines: list[str],
) -> Verdict:
    params = {op: (kind, p) for plan in plans for op, kind, p in plan.ops}
    unasked = dict(transactions_per_key)
    by_key: dict[tuple[int, str], list[Sent]] = defaultdict(list)
    for s in log:
        by_key[(s.op, s.step)].append(s)
    problems: list[str] = []
    tally: Counter[str] = Counter(before)
    applied = mismatches_refused = 0
    item_quantity: dict[int, int] = {}
    cart_ids: dict[int, int] = {}
    for (op, step), sent in sorted(by_key.items(), key=lambda kv: (kv[0][0], list(SUCCESS).index(kv[0][1]))):
        kind, p = params[op]
        wins = [s for s in sent if s.status == SUCCESS[step]]
        if any(s.status >= 500 or s.status == 0 for s in sent):
            problems.append(f"{step}-{op}: a 5xx or a lost connection: {[s.status for s in sent]}")
        if len({(s.variant, s.body) for s in wins}) > 1:
            problems.append(f"{step}-{op}: 2xx copies differ: {[(s.variant, s.body) for s in wins]}")
        won = wins[0].variant if wins else None
        for s in sent:
            if s.status == SUCCESS[step]:
                continue
            if s.status == 422 and b"idempotency_key_reused" not in s.body:
                problems.append(f"{step}-{op}: the harness sent a bad request: {s.body!r}")
            elif s.status == 422 and (won is None or s.variant == won):  # only a stored reply can be reused
                problems.append(f"{step}-{op}: the winner's own payload was refused as a reused key: {s.body!r}")
            elif won is not None and s.variant != won:
                if s.status == 422 and b"idempotency_key_reused" in s.body:
                    mismatches_refused += 1
                elif s.status != 409:
                    problems.append(f"{step}-{op}: a changed payload got {s.status} {s.body!r}")
            elif s.status not in (409, 422):
                problems.append(f"{step}-{op}: unexpected {s.status} {s.body!r}")
        if step == "cart" and wins:
            cart_ids[op] = json.loads(wins[0].body)["cart_id"]
        if step in LEDGER_ROUTE:  # deliveries are keyed by order id, a checkout by its cart
            key = str(cart_ids[op]) if step == "checkout" else f"order-{op}"
            booked = unasked.pop((LEDGER_ROUTE[step], key), 0)
            moves = step != "capacity" or (won is not None and p["units"][0] + won + p["units"][1] > 0)
            if booked != (1 if wins and moves else 0):  # a success that moves nothing books nothing
                problems.append(f"{step}-{op}: {booked} transactions for one key ({len(wins)} 2xx copies)")
        if not wins:
            continue
        applied += 1
        q = p["quantity"] + won
        colour = p["colour"]
        if step == "barrels":
            tally["gold"] -= p["price"] * q
            tally[f"ml:{colour}"] += p["ml"] * q
        elif step == "bottler":
            tally[f"ml:{colour}"] -= 100 * q
            tally[f"potion:{PURE_POTIONS[colour][0]}"] += q
        elif step == "capacity":
            potion_units, ml_units = p["units"][0] + won, p["units"][1]
            tally["gold"] -= 1000 * (potion_units + ml_units)
            tally["potion_capacity"] += potion_units
            tally["ml_capacity"] += ml_units
        elif step == "item":
            item_quantity[op] = q
        elif step == "checkout":
            sku, price = PURE_POTIONS[colour]
            reply = json.loads(wins[0].body)
            if reply != {"total_potions_bought": item_quantity[op], "total_gold_paid": item_quantity[op] * price}:
                problems.append(f"checkout-{op}: {reply} for {item_quantity[op]} x {sku} at {price}")
            tally["gold"] += item_quantity[op] * price
            tally[f"potion:{sku}"] -= item_quantity[op]
    for setup in ((Scope.OPENING, "opening"), (Scope.CORRECTIONS, "stress-seed")):
        unasked.pop(setup, None)
    if unasked:
        problems.append(f"transactions no request of the run asked for: {sorted(unasked)[:5]}")
    expected = {c: n for c, n in tally.items() if n}
    if expected != after:
        problems.append(f"balances differ from the tally: shop {after} != tally {expected}")
    if not verify_ok:
        problems.append("ledger verify: " + " | ".join(verify_lines))
    return Verdict(
        requests=len(log),
        seconds=seconds,
        latencies=[s.seconds for s in log if s.status],
        problems=problems,
        applied=applied,
        replayed=sum(s.replayed for s in log),
        mismatches_refused=mismatches_refused,
        refused_409=sum(s.status == 409 for s in log),
        statuses=Counter(s.status for s in log),
    )


def stress(url: str, api_key: str, database_url: str, clients: int, ops_per_client: int, seed: int = 1) -> Verdict:
    """Run the stress against a served shop whose database is `database_url`, and judge it."""
    client = HttpTransport(url, api_key)
    seeded = client.post(
        "/ledger/corrections",
        {"account": "shop/gold", "change": STARTING_GOLD, "reason": "stress: working capital"},
        key="stress-seed",
    )
    assert seeded.status == 200, seeded
    before = _shop_balances(client)
    plans = make_plans(seed, clients, ops_per_client)
    started = time.perf_counter()
    with multiprocessing.get_context("spawn").Pool(clients) as pool:
        logs = pool.starmap(run_client, [(url, api_key, plan, seed * 1000 + i) for i, plan in enumerate(plans)])
    seconds = time.perf_counter() - started
    after = _shop_balances(client)
    engine = make_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT request_route, request_key, COUNT(*) FROM account_transactions "
                "WHERE request_key IS NOT NULL GROUP BY 1, 2"
            )
        )
        per_key = {(route, key): n for route, key, n in rows}
        report = verify(conn)
    engine.dispose()
    return judge(plans, [s for log in logs for s in log], before, after, per_key, seconds, report.ok, report.lines())
