"""`cauldrons simulate` against the real shop: in-process for two game days with faults on, on each world, a shop
that forgets its keys (which the simulator must catch), the same shoppers whatever the shop does, and the command
itself on its embedded shop."""

import json
import re
from collections.abc import Iterator
from dataclasses import replace

import pytest
from click.testing import CliRunner
from flask import Flask

from cauldrons.app import create_app
from cauldrons.bootstrap import bootstrap
from cauldrons.cli import main
from cauldrons.config import Config
from cauldrons.exchange.game import Settings, play
from cauldrons.exchange.transport import REPLAYED_HEADER, Answer, Request, Transport
from tests.helpers import API_KEY


class FlaskTransport(Transport):
    """In-process, over the app's test client (no sockets): for tests."""

    def __init__(self, app: Flask, api_key: str) -> None:
        self.app = app
        self.api_key = api_key

    def send(self, request: Request) -> Answer:
        response = self.app.test_client().open(
            request.path, method=request.method, data=request.body, headers=request.headers(self.api_key)
        )
        return Answer(response.status_code, response.get_data(), response.headers.get(REPLAYED_HEADER) == "true")


@pytest.fixture
def shop(sqlite_url: str) -> Iterator[FlaskTransport]:
    """The real app over a fresh SQLite database, spoken to in-process."""
    config = Config(sqlite_url, API_KEY)
    wiring = bootstrap(config)
    yield FlaskTransport(create_app(config, uow_factory=wiring.uow_factory), API_KEY)
    wiring.engine.dispose()


class ForgetfulShop(Transport):
    """The shop behind a proxy that gives every barrel delivery a new order id, so retries and twins are processed
    again: what a shop without idempotent deliveries would do."""

    def __init__(self, shop: Transport) -> None:
        self.shop = shop
        self.sent = 0

    def send(self, request: Request) -> Answer:
        self.sent += 1
        if request.path.startswith("/barrels/deliver/"):
            request = Request(request.method, f"{request.path}-{self.sent}", request.body, request.key, request.keyed)
        return self.shop.send(request)


def test_two_game_days_with_faults_keep_the_books_exact(shop):
    result = play(shop, Settings(days=2, seed=1, faults=0.1, world="classic"))
    assert result.discrepancies == []
    assert result.violations == []
    assert result.traffic.server_errors == 0
    traffic = result.traffic
    # every keyed 2xx whose reply was lost came back as a replay (the wire makes it a violation otherwise); plans and
    # refusals are not stored, so their retries are answered afresh
    assert traffic.lost and traffic.delayed and traffic.duplicated and traffic.replayed > 0
    assert result.tally.checkouts > 20 and sum(result.tally.potions_sold.values()) > 30
    assert result.books.gold > result.gold_start
    assert result.tally.lines_found == sum(result.tally.lines_sold.values()) > 30  # the order search found them all
    assert result.ok
    assert len(result.points) == 1 + 2 * 12


class Recorder(Transport):
    """The shop behind a proxy that keeps the bodies of the visits and barrel catalogs sent, and can stand for a
    shop that never buys a barrel (so never sells a potion)."""

    def __init__(self, shop: Transport, buys: bool = True) -> None:
        self.shop = shop
        self.buys = buys
        self.seen: list[tuple[str, bytes | None]] = []

    def send(self, request: Request) -> Answer:
        if request.path.startswith(("/carts/visits/", "/barrels/plan", "/info/current_time")):
            self.seen.append((request.path.split("/")[-1 if "visits" not in request.path else 1], request.body))
            if request.path.startswith("/barrels/plan") and not self.buys:
                return Answer(200, b"[]")
        return self.shop.send(request)


def test_two_game_days_of_the_2026_world_with_faults_keep_the_books_exact(shop):
    recorder = Recorder(shop)
    result = play(recorder, Settings(days=2, seed=1, faults=0.1, world="2026"))
    assert result.discrepancies == [] and result.violations == [] and result.traffic.server_errors == 0
    assert result.ok and result.tally.visitors == len(result.visits) > 40
    days = {json.loads(body)["day"] for path, body in recorder.seen if path == "current_time" and body}
    assert days == {"Edgeday", "Bloomday"}
    catalogs = [json.loads(body) for body in dict.fromkeys(body for path, body in recorder.seen if path == "plan")]
    assert len(catalogs) == 12, "one wholesale catalog every other tick (retries aside)"
    assert all({"sku", "ml_per_barrel", "price", "quantity"} <= set(barrel) for barrel in catalogs[0])


def test_the_shoppers_and_the_offers_do_not_depend_on_the_shop(shop):
    """A shop that sells and one that never buys a barrel (so sells nothing and has no recognition) meet the same
    visitors, in the same ticks, and are offered the same barrels."""
    trading, idle = Recorder(shop), Recorder(shop, buys=False)
    sold = play(trading, Settings(days=1, seed=5, world="2026"))
    nothing = play(idle, Settings(days=1, seed=5, world="2026"))
    assert sold.ok and nothing.ok and nothing.tally.checkouts == 0
    assert sold.visits == nothing.visits
    assert [body for _, body in trading.seen] == [body for _, body in idle.seen]


def test_faults_change_the_traffic_but_not_the_game(shop):
    calm = play(shop, Settings(days=1, seed=2, faults=0.0, world="classic"))
    stormy = play(shop, Settings(days=1, seed=2, faults=0.3, world="classic"))
    assert calm.ok and stormy.ok
    assert stormy.traffic.retried > 0 and calm.traffic.retried == 0
    assert stormy.tally.potions_sold == calm.tally.potions_sold
    assert stormy.points == calm.points


def test_a_shop_that_processes_a_retried_delivery_twice_is_caught(shop):
    result = play(ForgetfulShop(shop), Settings(days=1, seed=1, faults=0.9, world="classic"))
    assert not result.ok
    assert any(d.difference.what in ("audit gold", "shop/gold") for d in result.discrepancies)
    found = result.discrepancies[0]
    assert found.moment.tick >= 1 and any("/barrels/deliver/" in line for line in found.recent)


class SearchThatLosesALine(Transport):
    """The shop behind a proxy whose order search drops one line of the first page it serves."""

    def __init__(self, shop: Transport) -> None:
        self.shop = shop
        self.dropped = False

    def send(self, request: Request) -> Answer:
        answer = self.shop.send(request)
        if request.path.startswith("/carts/search/") and not self.dropped:
            body = answer.json()
            body["results"] = body["results"][1:]
            self.dropped = True
            return replace(answer, body=json.dumps(body).encode())
        return answer


def test_a_shop_whose_order_search_misses_a_sale_is_caught(shop):
    result = play(SearchThatLosesALine(shop), Settings(days=1, seed=1, world="classic"))
    assert not result.ok and result.discrepancies == []
    assert result.tally.lines_found == sum(result.tally.lines_sold.values()) - 1
    assert any("order search found" in v for v in result.violations)


def test_the_command_plays_its_own_shop_and_prints_a_json_summary(tmp_path):
    png = tmp_path / "run.png"
    run = CliRunner().invoke(
        main, ["simulate", "--days", "1", "--faults", "0.1", "--json", "--plot", str(png), "--world", "classic"]
    )
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert summary["ok"] is True and summary["discrepancies"] == [] and summary["violations"] == []
    assert summary["days"] == 1 and summary["faults"] == 0.1 and summary["gold_start"] == 100
    assert summary["world"] == "classic"
    oracle = summary["oracle"]
    assert oracle["gold"] > 100 and 1 <= len(oracle["catalog"]) <= 6
    assert oracle["shop_share"] == round(summary["gold_end"] / oracle["gold"], 4)
    assert summary["ml_bought"] >= 0 and summary["potions_end"] >= 0 and summary["ml_end"] >= 0
    if summary["ml_bought"]:
        assert summary["gold_per_ml_bought"] == round(summary["gold_on_barrels"] / summary["ml_bought"], 4)
    for field in (
        "gold_end",
        "potions_sold_by_sku",
        "revenue_by_class",
        "barrels_bought",
        "requests",
        "errors_by_status",
        "stock_end",
        "stock_value_at_list_price",
    ):
        assert field in summary
    assert summary["requests"]["sent"] > 100 and summary["requests"]["retried"] > 0
    assert not any(status.startswith("5") for status in summary["errors_by_status"])
    assert png.read_bytes().startswith(b"\x89PNG")
    assert "Edgeday" in run.stderr


def test_the_command_shows_a_summary_table():
    run = CliRunner().invoke(main, ["simulate", "--days", "1", "--seed", "3"])
    assert run.exit_code == 0, run.output
    assert "world 2026" in run.stdout and "Aracanaday" not in run.stderr  # one day: Edgeday only
    for row in (
        "gold",
        "result",
        "potions sold by SKU",
        "revenue by class",
        "barrels bought",
        "requests",
        "errors by status",
        "discrepancies",
        "oracle",
    ):
        assert row in run.stdout


def test_the_command_plays_either_world_and_can_skip_the_oracle():
    run = CliRunner().invoke(main, ["simulate", "--days", "1", "--world", "2026", "--no-oracle", "--json"])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)
    assert summary["world"] == "2026" and summary["oracle"] is None and summary["ok"] is True
    wrong = CliRunner().invoke(main, ["simulate", "--days", "1", "--world", "1999"])
    assert wrong.exit_code == 2 and "1999" in wrong.output


def test_the_command_writes_the_report_of_the_game_it_played_with_the_oracles_verdict(tmp_path):
    out = tmp_path / "report"
    run = CliRunner().invoke(main, ["simulate", "--days", "1", "--world", "2026", "--json", "--report", str(out)])
    assert run.exit_code == 0, run.output
    summary = json.loads(run.stdout)  # the report's lines go to stderr, with the progress
    assert f"wrote {out / 'strategy.md'}" in run.stderr and (out / "metrics.md").is_file()
    strategy = (out / "strategy.md").read_text()
    assert "`cauldrons simulate` on world 2026, 1 game day, seed 0." in strategy
    assert f"| the shop at the end | {summary['gold_end']:,} |" in strategy
    assert f"| the oracle (the best fixed catalog for the same shoppers) | {summary['oracle']['gold']:,} |" in strategy
    assert f"| the shop's gold / the oracle's | {summary['oracle']['shop_share']:.4f} |" in strategy
    all_days = re.search(r"^\| \*\*all\*\* \| 12 \|  \|  \| ([\d,]+) \| ([\d,]+) \| ([\d,]+) \|$", strategy, re.M)
    assert all_days, strategy
    visitors, sold, gold = (int(n.replace(",", "")) for n in all_days.groups())
    assert visitors == summary["customers"]["visitors"] > 0
    assert sold == sum(summary["potions_sold_by_sku"].values()) and gold == summary["revenue"]
    for kind in summary["revenue_by_class"]:  # each class that bought has its row of what the planner learned
        assert re.search(rf"^\| {re.escape(kind)} \| \d+ \| \d+% \| [1-9]", strategy, re.M), kind


def test_the_command_refuses_to_report_on_a_shop_at_a_url(tmp_path):
    run = CliRunner().invoke(
        main, ["simulate", "--url", "http://127.0.0.1:9", "--days", "1", "--report", str(tmp_path / "report")]
    )
    assert run.exit_code == 2 and "--report" in run.output and "--url" in run.output
    assert not (tmp_path / "report").exists()
