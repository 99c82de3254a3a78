"""What the benchmarks and the stress and crash tests share: a throwaway PostgreSQL database, the shop served by
real gunicorn workers in a child process, and the simulator's HTTP client, which never hides a dropped
connection."""

from __future__ import annotations

import multiprocessing
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cauldrons.exchange.transport import HttpTransport

PG_ADMIN_URL = os.environ.get("CAULDRONS_TEST_PG", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
API_KEY = "bench-key"


@contextmanager
def fresh_pg_database(prefix: str = "cauldrons_bench") -> Iterator[str]:
    """An empty PostgreSQL database, dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # gunicorn's master; its children are the workers

    def workers(self) -> list[int]:
        with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
            return [int(p) for p in f.read().split()]


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if Client(url).get("/catalog/").status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not answer within {timeout} s")


@contextmanager
def serve(command: list[str], env: dict[str, str], port: int) -> Iterator[Server]:
    """Run a server command in its own process group until the block ends."""
    log = open(os.devnull, "wb") if not os.environ.get("CAULDRONS_BENCH_LOG") else None
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield Server(url, process.pid)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log is not None:
            log.close()


@contextmanager
def gunicorn_shop(database_url: str, workers: int) -> Iterator[Server]:
    """`cauldrons serve --workers N` on a free port."""
    port = free_port()
    command = [sys.executable, "-m", "cauldrons", "serve", "--port", str(port), "--workers", str(workers)]
    with serve(command, {"DATABASE_URL": database_url, "API_KEY": API_KEY}, port) as server:
        yield server


class Client(HttpTransport):
    """The simulator's HTTP transport (one keep-alive connection per thread, each answer timed; a lost connection
    raises TransportError, an OSError), with the benchmarks' key."""

    def __init__(self, url: str, api_key: str = API_KEY) -> None:
        super().__init__(url, api_key)


Call = tuple[str, Any, "str | None"]  # (path, JSON body, Idempotency-Key)


def _fire(url: str, calls: list[Call]) -> list[tuple[int, float]]:
    client = Client(url)
    return [(a.status, a.seconds) for a in (client.post(path, body, key) for path, body, key in calls)]


def _ready() -> None:
    return None


def fire(url: str, calls: list[Call], processes: int) -> tuple[float, list[tuple[int, float]]]:
    """POST `calls` from `processes` client processes (each its share, one after another); return the wall time
    from the first request to the last answer, and every (status, seconds)."""
    shares = [calls[i::processes] for i in range(processes)]
    with multiprocessing.get_context("spawn").Pool(processes) as pool:
        pool.starmap(_ready, [()] * processes)  # processes started and imported before the clock starts
        started = time.perf_counter()
        results = pool.starmap(_fire, [(url, share) for share in shares], chunksize=1)
        wall = time.perf_counter() - started
    return wall, [r for share in results for r in share]
