"""`cauldrons report --out DIR`: metrics.md with a PNG per chart and the exact SQL beside it, and strategy.md,
from a played shop on both databases, whatever text the exchange sent (drawn and written as text, never read as
mathtext or markup); a clear refusal (exit 1) for a missing, un-migrated or empty database, run as a user would."""

from __future__ import annotations

import os
import re
import sqlite3
from pathlib import Path

from click.testing import CliRunner

from adapters.metrics import METRICS
from cauldrons.cli import main
from cauldrons.report import escape
from domain.metrics import TITLES, Metric
from tests.e2e.test_cli import cauldrons
from tests.hostile_game import DAYS, PAYLOADS, play_hostile
from tests.metrics_game import play
from tests.routes.shop_client import ShopClient

PNG = b"\x89PNG\r\n\x1a\n"
STRATEGY_FILES = ("metrics.md", "strategy.md")


def report(database_url: str, out: Path):  # type: ignore[no-untyped-def]
    env = {**os.environ, "DATABASE_URL": database_url}
    return cauldrons("report", "--out", str(out), env=env, cwd=out.parent)


def test_the_report_shows_each_chart_with_its_exact_sql(wiring, database_url, tmp_path):
    """(In this process, with click's runner, so coverage sees it; the refusals below run the command for real.)"""
    play(wiring.uow_factory)
    result = CliRunner().invoke(
        main, ["report", "--out", str(tmp_path / "deliverable")], env={"DATABASE_URL": database_url}
    )
    assert result.exit_code == 0, result.output
    written = (tmp_path / "deliverable" / "metrics.md").read_text()
    assert result.stdout.splitlines() == [f"wrote {tmp_path / 'deliverable' / name}" for name in STRATEGY_FILES]
    assert "6/6" in result.stderr  # the progress bar, finished
    for metric in Metric:
        assert (tmp_path / "deliverable" / f"{metric}.png").read_bytes().startswith(PNG)
        assert f"![{TITLES[metric]}]({metric}.png)" in written
        assert f"```sql\n{METRICS[metric].sql.strip()}\n```" in written
    assert "| Bard | Human | 3 | RED_POTION | 1 | 1 | 50 |" in written  # the buyers' first row
    assert "| Bloomday | 50 | 0 | 1000 | -950 |" in written  # the profit's last
    assert "[strategy.md](strategy.md)" in written


def test_the_report_draws_and_writes_text_the_exchange_sent_as_text(shop: ShopClient, database_url, tmp_path):
    """Day names, classes, species and skus that matplotlib would read as mathtext (`$^$`) or that markdown and
    HTML would read as markup: every chart is drawn, the command exits 0, and the documents show the text escaped."""

    def send(path: str, body: object) -> tuple[int, object]:
        answer = shop.post(path, body)
        return answer.status_code, answer.json if answer.data else None

    play_hostile(send)
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path)], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    for metric in Metric:
        assert (tmp_path / f"{metric}.png").read_bytes().startswith(PNG)
    written = (tmp_path / "metrics.md").read_text() + (tmp_path / "strategy.md").read_text()
    for text in DAYS + PAYLOADS:
        assert escape(text) in written, text
    cells = [line for line in written.splitlines() if line.startswith("|")]
    assert not [line for line in cells if re.search(r"(?<!\\)[<>$&`]", line)]  # each one escaped


def test_the_strategy_shows_each_day_and_class_the_shop_saw_without_an_oracle(wiring, database_url, tmp_path):
    play(wiring.uow_factory)
    result = CliRunner().invoke(main, ["report", "--out", str(tmp_path)], env={"DATABASE_URL": database_url})
    assert result.exit_code == 0, result.output
    strategy = (tmp_path / "strategy.md").read_text()
    # Alice (a Wizard) and Bob (a Bard) visit once on Edgeday 0 and buy 2 + 1 red at 50 on Edgeday; Alice buys one
    # more on Bloomday, after no visit of that day.
    assert "| Edgeday | 2 | 50 / 50 / 50 | RED_POTION 1 | Bard 1, Wizard 1 | 3 | 150 |" in strategy
    assert "| Bloomday | 1 | — | — | — | 1 | 50 |" in strategy
    assert "| Wizard | 1 | 50% | 3 | RED_POTION " in strategy and "| Bard | 1 | 50% | 1 | RED_POTION " in strategy
    assert "oracle" not in strategy and "What the game earned" not in strategy


def test_the_report_refuses_a_database_it_cannot_report_on(sqlite_url, tmp_path):
    missing = report(f"sqlite:///{tmp_path}/nothing.db", tmp_path / "a")
    assert missing.returncode == 1 and "no such database file" in missing.stderr
    assert not (tmp_path / "nothing.db").exists()
    sqlite3.connect(tmp_path / "bare.db").execute("CREATE TABLE t (x)").connection.close()
    bare = report(f"sqlite:///{tmp_path}/bare.db", tmp_path / "b")
    assert bare.returncode == 1 and "is not migrated" in bare.stderr and "cauldrons migrate" in bare.stderr
    empty = report(sqlite_url, tmp_path / "c")
    assert empty.returncode == 1 and "is empty: no sales and no barrel offers yet" in empty.stderr
    assert not any((tmp_path / d).exists() for d in "abc")
