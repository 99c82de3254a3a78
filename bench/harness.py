"""What the benchmarks share: the shop served by real gunicorn workers (`cauldrons.testing`, shared with the
tests), the simulator's HTTP client with the benchmarks' key, and a way to fire POSTs from several processes."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from cauldrons.exchange.transport import HttpTransport
from cauldrons.testing import Server, free_port, fresh_pg_database, serve, shop_process

__all__ = ["API_KEY", "Client", "Server", "correct", "fire", "free_port", "fresh_pg_database", "gunicorn_shop", "serve"]
API_KEY = "bench-key"


@contextmanager
def gunicorn_shop(database_url: str, workers: int | None = None, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`cauldrons serve [--workers N]` on a free port, with the benchmarks' key (and `env`); its default workers if
    `workers` is not given."""
    options = ("--workers", str(workers)) if workers is not None else ()
    with shop_process(database_url, API_KEY, *options, env=env) as server:
        yield server


def correct(url: str, changes: dict[str, int], reason: str = "bench") -> None:
    """Post a ledger correction for each account (the account is the request's key), each answered 200."""
    client = Client(url)
    for account, change in changes.items():
        answer = client.post(
            "/ledger/corrections", {"account": account, "change": change, "reason": reason}, key=account
        )
        assert answer.status == 200, (account, answer.status, answer.body[:200])
    client.close()


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
