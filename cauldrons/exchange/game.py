"""The game loop: the exchange plays the shop tick by tick and checks the shop's books against its own after each.

Each tick (12 a day, hours 0, 2, ..., 22): the time is set; once a day (hour 0) the capacity sequence; every other
tick the barrel sequence (a wholesale catalog -> /barrels/plan -> /barrels/deliver) and the bottler sequence;
then customers visit, read the catalog, fill carts and check out. Each sequence starts with every answer in (so
plans are checked against settled books), and the tick ends with the books compared with the audit, the ledger's
accounts and the catalog. Every difference is a discrepancy.

Who visits, with what purse and wants, and what the wholesalers offer come from the world profile and the seed
alone (`world.shoppers`, `world.offers`); what a visitor buys is the profile's choice from the catalog they read and
the shop's successful checkouts by class up to the end of the previous tick.

Keys are unique to the run (the shop never forgets a key, not even across a reset), and every retry reuses its key
and body. Only 2xx answers change the books; a 409 is a refusal the shop may give, counted and nothing more.
At the end, the shop's order search (`GET /carts/search/`) must find every line the game bought, with its total.
"""

from __future__ import annotations

import random
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import urlencode

from cauldrons.exchange import world, worlds
from cauldrons.exchange.books import Books, Difference
from cauldrons.exchange.faults import FaultyClient, Traffic
from cauldrons.exchange.transport import Answer, Transport
from cauldrons.exchange.world import CatalogItem, Customer, Recipe, Visit

PAYMENT = "gold coins"


@dataclass(frozen=True)
class Settings:
    days: int = 7
    seed: int = 0
    faults: float = 0.0
    customers: int = 150  # the town's size
    world: str = worlds.DEFAULT  # the world profile's name (worlds.WORLDS)


@dataclass(frozen=True)
class Moment:
    tick: int
    day: str
    hour: int

    def __str__(self) -> str:
        return f"tick {self.tick} ({self.day} {self.hour}:00)" if self.tick else "the start (after the reset)"


@dataclass(frozen=True)
class Discrepancy:
    moment: Moment
    difference: Difference
    recent: tuple[str, ...]  # the POSTs since the last check, with their answers


@dataclass(frozen=True)
class Point:
    """The shop's state after a tick, by the books (which matched the shop's unless a discrepancy says otherwise)."""

    tick: int
    day: str
    gold: int
    ml: dict[str, int]
    potions: int


@dataclass
class Tally:
    """What happened in the game."""

    visitors: int = 0
    carts: int = 0
    checkouts: int = 0
    potions_sold: Counter[str] = field(default_factory=Counter)  # by sku
    revenue_by_class: Counter[str] = field(default_factory=Counter)
    barrels_bought: Counter[str] = field(default_factory=Counter)  # by sku
    gold_on_barrels: int = 0
    ml_bought: int = 0
    potions_bottled: int = 0
    capacity_bought: Counter[str] = field(default_factory=Counter)  # potion / ml units
    gold_on_capacity: int = 0
    refusals: Counter[str] = field(default_factory=Counter)  # "checkout: insufficient_stock" -> n
    prices: dict[str, int] = field(default_factory=dict)  # by sku, as the catalog last showed them
    recipes: dict[str, Recipe] = field(default_factory=dict)  # by sku, as the catalog last showed them
    sales_by_class: Counter[str] = field(default_factory=Counter)  # successful checkouts
    lines_sold: Counter[tuple[str, str, int]] = field(default_factory=Counter)  # (customer, "2 red potion", total)
    lines_found: int = 0  # of those, found by the shop's order search

    @property
    def revenue(self) -> int:
        return sum(self.revenue_by_class.values())


@dataclass
class Result:
    settings: Settings
    run_id: str
    books: Books
    tally: Tally
    traffic: Traffic
    discrepancies: list[Discrepancy]
    violations: list[str]
    points: list[Point]
    gold_start: int
    seconds: float
    visits: list[Visit]  # every visitor of the game, with their draws (what the oracle replays)

    @property
    def ok(self) -> bool:
        return not self.discrepancies and not self.violations and not self.traffic.server_errors


class GameAborted(Exception):
    """The game could not start (the shop would not reset: a wrong key, or not a shop)."""


class Observer(Protocol):
    def day_started(self, day: str, ticks: int) -> None: ...
    def tick_done(self, point: Point) -> None: ...
    def discrepancy(self, found: Discrepancy) -> None: ...
    def violation(self, moment: Moment, message: str) -> None: ...


class Silent:
    def day_started(self, day: str, ticks: int) -> None:
        pass

    def tick_done(self, point: Point) -> None:
        pass

    def discrepancy(self, found: Discrepancy) -> None:
        pass

    def violation(self, moment: Moment, message: str) -> None:
        pass


class Game:
    def __init__(self, client: FaultyClient, settings: Settings, observer: Observer | None = None) -> None:
        self.client = client
        self.settings = settings
        self.observer = observer or Silent()
        self.world = worlds.named(settings.world)
        self.visits = world.shoppers(self.world, settings.seed, settings.days, settings.customers)
        self.crowds: dict[int, list[Visit]] = {}
        for visit in self.visits:
            self.crowds.setdefault(visit.tick, []).append(visit)
        self.sales: Counter[str] = Counter()  # successful checkouts by class, up to the end of the last tick
        self._sales_now: Counter[str] = Counter()  # this tick's
        self.run_id = uuid.uuid4().hex[:10]
        self.books = Books()
        self.tally = Tally()
        self.discrepancies: list[Discrepancy] = []
        self.violations: list[str] = []
        self.points: list[Point] = []
        self.moment = Moment(0, "", 0)
        self._wire_violations_seen = 0

    def play(self) -> Result:
        started = time.monotonic()
        answer = self.client.call("/admin/reset", key=self._key("reset"))
        if answer.status != 204:
            raise GameAborted(f"POST /admin/reset answered {answer}")
        gold_start = self.books.gold
        self._check_books()
        self._record_point()
        for tick, day, hour in world.week_moments(self.world, self.settings.days):
            if hour == world.HOURS[0]:
                self.observer.day_started(day, len(world.HOURS))
            self._tick(tick, day, hour)
        self.client.settle()
        self._check_search()
        self._note_violations()
        return Result(
            self.settings,
            self.run_id,
            self.books,
            self.tally,
            self.client.traffic,
            self.discrepancies,
            self.violations,
            self.points,
            gold_start,
            time.monotonic() - started,
            self.visits,
        )

    def _key(self, what: str) -> str:
        """A key (or order/visit id) unique to this run: 1-64 of [A-Za-z0-9_-]."""
        return f"{self.run_id}-{what}"

    def _tick(self, tick: int, day: str, hour: int) -> None:
        self.moment = Moment(tick, day, hour)
        self.client.send(
            "/info/current_time", {"day": day, "hour": hour}, self._expect("time"), key=self._key(f"t{tick}-time")
        )
        if hour == 0:
            self._buy_capacity()
        if tick % 2 == 1:
            self._buy_barrels()
            self._bottle()
        self._serve_customers()
        self.client.settle()
        self.sales.update(self._sales_now)
        self._sales_now.clear()
        self._check_books()
        self.observer.tick_done(self._record_point())

    def _record_point(self) -> Point:
        point = Point(
            self.moment.tick,
            self.moment.day,
            self.books.gold,
            {c: self.books.ml[c] for c in world.COLOURS},
            self.books.total_potions,
        )
        self.points.append(point)
        return point

    # --- the sequences -----------------------------------------------------------------------------------------------

    def _buy_capacity(self) -> None:
        self.client.settle()
        plan = self._plan("/inventory/plan", dict)
        if plan is None:
            return
        self._violate(*self.books.capacity_plan_problems(plan))
        potion_units, ml_units = plan.get("potion_capacity", 0), plan.get("ml_capacity", 0)
        if not (potion_units or ml_units):
            return

        def delivered(answer: Answer) -> None:
            if self._refused("capacity delivery", answer):
                return
            self.books.capacity_bought(potion_units, ml_units)
            self.tally.capacity_bought.update({"potion": potion_units, "ml": ml_units})
            self.tally.gold_on_capacity += 1000 * (potion_units + ml_units)

        self.client.send(
            f"/inventory/deliver/{self._key(f'c{self.moment.tick}')}",
            {"potion_capacity": potion_units, "ml_capacity": ml_units},
            delivered,
        )

    def _buy_barrels(self) -> None:
        self.client.settle()
        offers = world.offers(self.world, self.settings.seed, self.moment.tick, self.moment.day, self.moment.hour)
        plan = self._plan("/barrels/plan", list, [offer.as_json() for offer in offers])
        if plan is None:
            return
        order, problems = world.fill_order(plan, offers)
        self._violate(*problems, *self.books.barrel_order_problems(order))
        if not order:
            return

        def delivered(answer: Answer) -> None:
            if self._refused("barrel delivery", answer):
                return
            self.books.barrels_delivered(order)
            for offer, quantity in order:
                self.tally.barrels_bought[offer.sku] += quantity
                self.tally.gold_on_barrels += offer.price * quantity
                self.tally.ml_bought += offer.ml_per_barrel * quantity

        self.client.send(
            f"/barrels/deliver/{self._key(f'b{self.moment.tick}')}",
            [offer.as_json(quantity) for offer, quantity in order],
            delivered,
        )

    def _bottle(self) -> None:
        self.client.settle()
        plan = self._plan("/bottler/plan", list)
        if plan is None:
            return
        mixes, problems = self.books.bottler_plan_problems(plan)
        self._violate(*problems)
        if not plan:
            return

        def delivered(answer: Answer) -> None:
            if self._refused("bottler delivery", answer):
                return
            self.books.bottled(mixes)
            self.tally.potions_bottled += sum(q for _, q in mixes)

        self.client.send(f"/bottler/deliver/{self._key(f'p{self.moment.tick}')}", plan, delivered)

    def _serve_customers(self) -> None:
        tick = self.moment.tick
        crowd = self.crowds.get(tick, [])
        self.tally.visitors += len(crowd)
        self.client.send(
            f"/carts/visits/{self._key(f'v{tick}')}", [v.customer.as_json() for v in crowd], self._expect("visit")
        )
        catalog = self._catalog()
        for visit in crowd:
            lines = self.world.choose(visit, catalog, self.sales)
            if lines:
                self._shop(visit.customer, lines, f"t{tick}-{visit.n}")

    def _shop(self, customer: Customer, lines: list[tuple[CatalogItem, int]], tag: str) -> None:
        answer = self.client.call("/carts/", customer.as_json(), key=self._key(f"cart-{tag}"))
        body = answer.json() if answer.ok else None
        cart_id = body.get("cart_id") if isinstance(body, dict) else None
        if not isinstance(cart_id, int):
            self._violate(f"POST /carts/ answered {answer}")
            return
        self.tally.carts += 1
        for item, quantity in lines:
            self.client.send(
                f"/carts/{cart_id}/items/{item.sku}",
                {"quantity": quantity},
                self._expect("cart item"),
                key=self._key(f"item-{tag}-{item.sku}"),
            )
        self.client.send(f"/carts/{cart_id}/checkout", {"payment": PAYMENT}, self._checked_out(customer, lines))

    def _checked_out(self, customer: Customer, lines: list[tuple[CatalogItem, int]]) -> Callable[[Answer], None]:
        potions = sum(q for _, q in lines)
        gold = sum(item.price * q for item, q in lines)

        def checked_out(answer: Answer) -> None:
            if self._refused("checkout", answer):
                return
            paid = answer.json()
            if paid != {"total_potions_bought": potions, "total_gold_paid": gold}:
                self._violate(f"checkout answered {paid} for {potions} potions at catalog prices ({gold} gold)")
            paid_gold = paid.get("total_gold_paid", 0) if isinstance(paid, dict) else 0
            sold: list[tuple[Recipe, int]] = [(item.potion_type, q) for item, q in lines]
            self.books.sold(sold, paid_gold)
            self.tally.checkouts += 1
            self.tally.revenue_by_class[customer.character_class] += paid_gold
            self.tally.sales_by_class[customer.character_class] += 1
            self._sales_now[customer.character_class] += 1
            for item, q in lines:
                self.tally.potions_sold[item.sku] += q
                self.tally.lines_sold[customer.name, f"{q} {item.name.lower()}", item.price * q] += 1

        return checked_out

    # --- answers and checks ------------------------------------------------------------------------------------------

    def _plan(self, path: str, kind: type, body: object = None) -> Any:
        """The shop's plan; None (and a violation) if it refused or answered anything but a JSON `kind`."""
        answer = self.client.call(path, body)
        try:
            plan = answer.json() if answer.ok else None
        except ValueError:
            plan = None
        if not isinstance(plan, kind):
            self._violate(f"POST {path} answered {answer}")
            return None
        return plan

    def _catalog(self) -> list[CatalogItem]:
        """The shop's catalog; empty (and a violation) if it is not a list of catalog items."""
        answer = self.client.get("/catalog/")
        try:
            if answer.ok:
                catalog = [CatalogItem.from_json(item) for item in answer.json()]
                self.tally.prices.update({item.sku: item.price for item in catalog})
                self.tally.recipes.update({item.sku: item.potion_type for item in catalog})
                return catalog
        except (ValueError, TypeError, KeyError):
            pass
        self._violate(f"GET /catalog/ answered {answer}")
        return []

    def _refused(self, what: str, answer: Answer) -> bool:
        """Whether the shop refused (only a 409 is a refusal the game expects; anything else is a violation)."""
        if answer.ok:
            return False
        self.tally.refusals[f"{what}: {answer.error}"] += 1
        if answer.status != 409:
            self._violate(f"{what} answered {answer}")
        return True

    def _expect(self, what: str) -> Callable[[Answer], None]:
        def expect(answer: Answer) -> None:
            if not answer.ok:
                self._violate(f"{what} answered {answer}")

        return expect

    def _violate(self, *messages: str) -> None:
        for message in messages:
            self.violations.append(f"{self.moment}: {message}")
            self.observer.violation(self.moment, message)

    def _note_violations(self) -> None:
        """The wire's own findings (replays that differ, twins processed twice) join the game's."""
        wire = self.client.violations
        self._violate(*wire[self._wire_violations_seen :])
        self._wire_violations_seen = len(wire)

    def _check_books(self) -> None:
        """Compare the books with the shop's audit, accounts and catalog; every difference is a discrepancy."""
        self._note_violations()
        differences: list[Difference] = []
        audit = self.client.get("/inventory/audit")
        if audit.ok:
            differences += self.books.audit_differences(audit.json())
        else:
            self._violate(f"GET /inventory/audit answered {audit}")
        found, problems = self.books.catalog_differences(self._catalog())
        differences += found
        self._violate(*problems)
        accounts = self.client.get("/ledger/accounts")
        if accounts.ok:
            differences += self.books.account_differences(
                {a["account"]: a["balance"] for a in accounts.json()["accounts"]}
            )
        elif accounts.status != 404:  # a shop without the ledger extension: the audit must do
            self._violate(f"GET /ledger/accounts answered {accounts}")
        self._violate(*self.books.invariant_problems())
        recent = self.client.recent()
        self.client.mark()
        for difference in differences:
            found_one = Discrepancy(self.moment, difference, recent)
            self.discrepancies.append(found_one)
            self.observer.discrepancy(found_one)

    def _check_search(self) -> None:
        """Walk the order search newest first until every line the game bought has been found (a shop already
        running may have older sales) or the pages run out; every line not found is a violation. A shop without
        order search (404 on the first page) is let be."""
        missing = Counter(self.tally.lines_sold)
        page: str | None = ""
        while +missing and page is not None:
            answer = self.client.get(
                "/carts/search/?" + urlencode({"search_page": page, "sort_col": "timestamp", "sort_order": "desc"})
            )
            if answer.status == 404 and page == "":
                return
            try:
                body = answer.json() if answer.ok else None
                for result in body["results"]:  # type: ignore[index]
                    line = (result["customer_name"], result["item_sku"], result["line_item_total"])
                    if missing[line] > 0:
                        missing[line] -= 1
                page = body["next"]  # type: ignore[index]
            except (ValueError, TypeError, KeyError):
                self._violate(f"GET /carts/search/ answered {answer}")
                return
        sold = sum(self.tally.lines_sold.values())
        self.tally.lines_found = sold - sum((+missing).values())
        if +missing:
            examples = ", ".join(f"{name}: {item} for {total}" for name, item, total in list(+missing)[:3])
            self._violate(
                f"the order search found {self.tally.lines_found} of the {sold} lines sold; missing e.g. {examples}"
            )


def play(transport: Transport, settings: Settings, observer: Observer | None = None) -> Result:
    """A whole game against the shop behind `transport`, with faults seeded apart from the world (so the same seed
    brings the same customers and offers whatever the fault rate)."""
    client = FaultyClient(transport, settings.faults, random.Random(f"faults-{settings.seed}"))
    try:
        return Game(client, settings, observer).play()
    finally:
        client.close()
