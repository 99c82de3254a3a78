"""The README's first command, for real: `cauldrons serve` on the embedded default, with no setup."""

import os
import subprocess
import sys
import time
from pathlib import Path

from cauldrons.config import DEV_API_KEY
from cauldrons.exchange.transport import HttpTransport
from cauldrons.testing import free_port


def test_serve_runs_the_shop_on_a_fresh_sqlite_file_with_the_dev_key(tmp_path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in ("API_KEY", "DATABASE_URL")}
    server = subprocess.Popen(
        [sys.executable, "-m", "cauldrons", "serve", "--port", str(port)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                root = HttpTransport(url, "").get("/")
                break
            except OSError:
                time.sleep(0.1)
        assert root.json() == {"message": "Shop is open for business!"}
        assert HttpTransport(url, DEV_API_KEY).get("/inventory/audit").json() == {
            "number_of_potions": 0,
            "ml_in_barrels": 0,
            "gold": 100,
        }
    finally:
        server.terminate()
        output = server.communicate(timeout=10)[0]
    assert (tmp_path / "cauldrons.db").exists()
    assert "API_KEY is not set" in output


def cauldrons(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    """The command, run as a user would, to its end."""
    command = [sys.executable, "-m", "cauldrons", *args]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=60)


def test_serve_refuses_to_listen_beyond_loopback_without_an_api_key(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "API_KEY"}
    result = cauldrons("serve", "--host", "0.0.0.0", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "set API_KEY" in result.stderr


def test_serve_refuses_several_workers_on_sqlite(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db"}
    result = cauldrons("serve", "--workers", "3", env=env, cwd=tmp_path)
    assert result.returncode != 0
    assert "served by one process" in result.stderr and not (tmp_path / "shop.db").exists()


def test_migrate_prepares_a_database(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path}/shop.db"}
    result = cauldrons("migrate", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "schema up to date, shop open" in result.stdout


def test_ledger_verify_reports_sound_books_and_refuses_a_database_that_is_not_a_shop(database_url, wiring):
    from click.testing import CliRunner

    from cauldrons.cli import main

    sound = CliRunner().invoke(main, ["ledger", "verify"], env={"DATABASE_URL": database_url})
    assert sound.exit_code == 0, sound.output
    assert "ledger: 32 accounts, 1 transactions" in sound.output and "the books are sound" in sound.output
    empty = CliRunner().invoke(main, ["ledger", "verify"], env={"DATABASE_URL": "sqlite://"})
    assert empty.exit_code == 1 and "not a shop at the newest schema" in empty.output


def test_ledger_verify_exits_1_on_drift(sqlite_url):
    from click.testing import CliRunner
    from sqlalchemy import text

    from cauldrons.bootstrap import bootstrap
    from cauldrons.cli import main
    from cauldrons.config import Config

    engine = bootstrap(Config(sqlite_url, "key")).engine  # an opened shop
    with engine.begin() as conn:  # an unbalanced transaction, past the guards (SQLite has no deferred check)
        txn = conn.execute(
            text(
                "INSERT INTO account_transactions (created_at, kind, description) "
                "VALUES ('2030-01-01 00:00:00.000000', 'forged', 'forged') RETURNING id"
            )
        ).scalar()
        conn.execute(
            text(
                "INSERT INTO account_ledger_entries (account_id, account_transaction_id, change, "
                "balance_after, created_at, non_negative) SELECT id, :txn, 5, 105, "
                "'2030-01-01 00:00:00.000000', 1 FROM accounts "
                "WHERE owner = 'shop' AND commodity = 'gold'"
            ),
            {"txn": txn},
        )
    engine.dispose()
    result = CliRunner().invoke(main, ["ledger", "verify"], env={"DATABASE_URL": sqlite_url})
    assert result.exit_code == 1
    assert "DRIFT balanced" in result.output and "the books have drifted" in result.output
