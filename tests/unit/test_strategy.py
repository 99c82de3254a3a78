"""The strategy report's data on fakes: a few ticks played through the services, and the figures held to what the
test saw the shop show and sell; then its markdown, with the exchange's text escaped."""

import json

import pytest

from cauldrons.report import Outcome, escape, strategy_markdown
from domain.carts import Customer
from domain.market import REFERENCE_ML_COST, price_test
from domain.potions import PotionType
from service_layer import services, views
from service_layer.strategy import strategy
from tests.fakes import FakeUnitOfWork
from tests.helpers import GREEN, RED, barrel

RED_POTION, GREEN_POTION = PotionType(100, 0, 0, 0), PotionType(0, 100, 0, 0)
MEDIUM_GREEN = barrel("MEDIUM_GREEN_BARREL", 2500, GREEN, 325, 5)  # 0.13 gold per ml


def wizard(n: int) -> Customer:
    return Customer(f"w-{n}", f"Wizard {n}", "Wizard", "Elf", 7)


def bard(n: int) -> Customer:
    return Customer(f"b-{n}", f"Bard {n}", "Bard", "Human", 3)


class Game:
    """A shop played through the services, remembering the level each visit was shown (the median price of its
    catalog, as `Tick.price_level` reads it) and the gold each checkout paid."""

    def __init__(self) -> None:
        self.uow = FakeUnitOfWork()
        services.open_shop(self.uow)
        self.levels: list[float] = []
        self.paid: list[int] = []

    def tick(self, day: str, hour: int, offers=()) -> None:
        services.set_time(day, hour, None, self.uow)
        if offers:
            services.plan_barrels(list(offers), self.uow)

    def stock(self) -> None:
        """Five red and four green potions, for 60 gold."""
        red, green = barrel("SMALL_RED_BARREL", 500, RED, 30), barrel("SMALL_GREEN_BARREL", 500, GREEN, 30)
        services.deliver_barrels(f"o-{len(self.levels)}", [red, green], self.uow)
        services.deliver_bottles(f"b-{len(self.levels)}", [(RED_POTION, 5), (GREEN_POTION, 4)], self.uow)

    def visit(self, visit_id: str, *customers: Customer) -> None:
        prices = sorted(item["price"] for item in views.catalog(self.uow))
        assert prices, "a visit is shown the catalog: stock the shop first"
        self.levels.append(float(prices[len(prices) // 2]))
        services.record_visit(visit_id, list(customers), self.uow)

    def buy(self, customer: Customer, **skus: int) -> None:
        cart_id = json.loads(services.create_cart(customer, None, self.uow).body)["cart_id"]
        for sku, n in skus.items():
            services.set_item_quantity(cart_id, sku, n, None, self.uow)
        self.paid.append(json.loads(services.checkout(cart_id, "gold", self.uow).body)["total_gold_paid"])


@pytest.fixture
def game() -> Game:
    """Edgeday 0, 6 and 14 (ticks the shelf's price is tested at the base, up and down), then Aracanaday 0 (the
    template's spelling of the week's third day): wizards buy red, bards mostly green, one bard cart holds two
    potions, and the third wizard buys nothing."""
    game = Game()
    game.tick("Edgeday", 0, [MEDIUM_GREEN])
    game.stock()
    game.visit("v-1", wizard(1), bard(1))
    game.buy(wizard(1), RED_POTION=2)
    game.buy(bard(1), RED_POTION=1, GREEN_POTION=1)
    game.tick("Edgeday", 6)
    game.visit("v-2", wizard(2))
    game.buy(wizard(2), RED_POTION=1)
    game.tick("Edgeday", 14)
    game.visit("v-3", wizard(3))
    game.tick("Aracanaday", 0, [MEDIUM_GREEN])
    game.visit("v-4", bard(2))
    game.buy(bard(2), GREEN_POTION=1)
    return game


def test_each_game_day_shows_its_prices_potions_visitors_and_sales_in_the_weeks_order(game):
    days = strategy(game.uow)["days"]
    edgeday, aracanaday = days
    assert [d["day"] for d in days] == ["Edgeday", "Aracanaday"] and [d["week"] for d in days] == [1, 1]
    low, middle, high = sorted(game.levels[:3])
    assert low < middle < high, "the fixture's premise: Edgeday's three ticks ask three price levels"
    assert edgeday == {
        "day": "Edgeday",
        "week": 1,
        "ticks": 3,
        "price_level": {"min": low, "median": middle, "max": high},
        "shown": {"GREEN_POTION": 3, "RED_POTION": 3},
        "visitors": {"Wizard": 3, "Bard": 1},
        "potions_sold": 5,
        "gold": sum(game.paid[:3]),
    }
    assert aracanaday["ticks"] == 1 and aracanaday["visitors"] == {"Bard": 1}
    level = game.levels[3]
    assert aracanaday["price_level"] == {"min": level, "median": level, "max": level}
    assert (aracanaday["potions_sold"], aracanaday["gold"]) == (1, game.paid[3])


def test_what_the_planner_learned_of_each_class(game):
    wizards, bards = strategy(game.uow)["classes"]
    assert (wizards["class"], wizards["visitors"], wizards["share"], wizards["bought"]) == ("Wizard", 3, 0.6, 3)
    assert (bards["class"], bards["visitors"], bards["share"], bards["bought"]) == ("Bard", 2, 0.4, 3)
    assert wizards["taste"] == [100, 0, 0, 0]
    assert bards["taste"] == pytest.approx([100 / 3, 200 / 3, 0, 0])  # one red, two green
    assert wizards["second_lines"] == 0.0  # two carts, one line each
    assert bards["second_lines"] == 0.5  # two carts, three lines
    assert [f["sku"] for f in wizards["favourites"]][0] == "RED_POTION" and len(wizards["favourites"]) == 2
    assert [f["sku"] for f in bards["favourites"]] == ["GREEN_POTION", "RED_POTION"]
    for favourites in (wizards["favourites"], bards["favourites"]):
        assert favourites[0]["rate"] > favourites[1]["rate"] > 0


def test_a_class_that_bought_nothing_has_no_favourites_yet():
    game = Game()
    game.tick("Edgeday", 0)
    game.stock()
    game.visit("v-1", wizard(1))
    (wizards,) = strategy(game.uow)["classes"]
    assert wizards == {
        "class": "Wizard",
        "visitors": 1,
        "share": 1.0,
        "bought": 0,
        "favourites": [],
        "taste": None,
        "second_lines": None,
    }


def test_the_prices_liquid_shelf_and_balances_now(game):
    found = strategy(game.uow)
    assert found["ml_cost"] == {**REFERENCE_ML_COST, "green": 0.13}  # the green barrel offered in every round
    assert found["price_level"] == pytest.approx(game.levels[-1] / price_test("Aracanaday", 0))
    shown = [(item["sku"], item["price"]) for item in views.catalog(game.uow)]
    in_stock = [(p["sku"], p["price"]) for p in found["shelf"] if p["sku"] in {"RED_POTION", "GREEN_POTION"}]
    assert in_stock and shown[: len(in_stock)] == in_stock  # the shelf's chosen potions lead the catalog
    assert found["balances"] == {
        "gold": 100 - 60 + sum(game.paid),
        "ml": {"red": 0, "green": 100, "blue": 0, "dark": 0},
        "potions": {"GREEN_POTION": 2, "RED_POTION": 1},
    }


def test_a_new_week_starts_when_the_day_comes_round_again():
    game = Game()
    for day, hour in (("Soulday", 22), ("Edgeday", 0), ("Edgeday", 2), ("Bloomday", 0), ("Edgeday", 0)):
        game.tick(day, hour)
    assert [(d["day"], d["week"], d["ticks"]) for d in strategy(game.uow)["days"]] == [
        ("Soulday", 1, 1),
        ("Edgeday", 2, 2),
        ("Bloomday", 2, 1),
        ("Edgeday", 3, 1),
    ]


def test_the_markdown_shows_the_exchanges_text_as_text():
    game = Game()
    game.tick("<b>Edge|day</b>", 0)
    game.stock()
    game.visit("v-1", Customer("c-1", "Mallory", "Bard | *$x$*\n<script>", "Elf", 1))
    text = strategy_markdown(strategy(game.uow), outcome=Outcome("2026", 1, 0, 100, 150, 300, 0.5))
    assert "\\<b\\>Edge\\|day\\</b\\>" in text and "<b>" not in text
    assert "| Bard \\| \\*\\$x\\$\\* \\<script\\> | 1 | 100% | 0 |" in text and "<script>" not in text
    assert "| the shop's gold / the oracle's | 0.5000 |" in text


def test_escaping_leaves_words_alone_and_marks_up_nothing():
    assert escape("RED_POTION") == "RED_POTION"
    assert escape("_a_ [b](c) `d` ~e~ &amp; \\") == "\\_a\\_ \\[b\\](c) \\`d\\` \\~e\\~ \\&amp; \\\\"
