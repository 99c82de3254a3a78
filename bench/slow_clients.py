"""Honest clients' latency while slow clients hold hundreds of connections, on both backends (target: p99 < 1 s).

`cauldrons serve` as it runs by default: gunicorn's gevent workers, one on SQLite, `--workers` on PostgreSQL. The
attacker opens `--slow` connections that each send half a request (half never finish their headers, half announce a
body and send one byte of it) and then wait; whenever the shop drops one, it opens another at once, for
`--seconds`. Meanwhile one honest client sends GET /catalog/ and GET /inventory/audit, each on a new connection,
one after another, and every latency is kept (a request that gets no answer within 30 s counts as 30 s).

    python bench/slow_clients.py [--slow 500] [--seconds 30] [--workers 5]
"""

from __future__ import annotations

import argparse
import http.client
import selectors
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import API_KEY, free_port, fresh_pg_database, serve  # noqa: E402

HALF_HEADERS = b"POST /barrels/plan HTTP/1.1\r\nHost: shop\r\naccess_to"
SHORT_BODY = (
    f"POST /barrels/plan HTTP/1.1\r\nHost: shop\r\naccess_token: {API_KEY}\r\nContent-Type: application/json"
    f"\r\nContent-Length: 100\r\n\r\n["
).encode()
HONEST_TIMEOUT = 30.0


def attack(port: int, count: int, until: float, reconnects: list[int]) -> None:
    """Hold `count` half-sent requests open until `until`, replacing each one the shop drops."""
    selector = selectors.DefaultSelector()

    def open_one(i: int) -> None:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=5)
            sock.sendall(HALF_HEADERS if i % 2 else SHORT_BODY)
            sock.setblocking(False)
            selector.register(sock, selectors.EVENT_READ, i)
        except OSError:
            time.sleep(0.01)  # the shop's backlog is full: try again on the next round

    for i in range(count):
        open_one(i)
    while time.monotonic() < until:
        for key, _ in selector.select(timeout=0.2):
            selector.unregister(key.fileobj)
            key.fileobj.close()  # type: ignore[union-attr]
            reconnects[0] += 1
            open_one(key.data)
        missing = count - len(selector.get_map())
        for i in range(missing):
            open_one(i)
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]


def honest(port: int, until: float) -> list[float]:
    latencies: list[float] = []
    paths = ["/catalog/", "/inventory/audit"]
    while time.monotonic() < until:
        started = time.monotonic()
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=HONEST_TIMEOUT)
            connection.request("GET", paths[len(latencies) % 2], headers={"access_token": API_KEY})
            response = connection.getresponse()
            response.read()
            connection.close()
            ok = response.status == 200
        except OSError:
            ok = False
        latencies.append(time.monotonic() - started if ok else HONEST_TIMEOUT)
    return latencies


def run(database_url: str, workers: list[str], slow: int, seconds: float) -> tuple[list[float], int]:
    port = free_port()
    command = [sys.executable, "-m", "cauldrons", "serve", "--port", str(port), *workers]
    with serve(command, {"DATABASE_URL": database_url, "API_KEY": API_KEY}, port):
        until = time.monotonic() + seconds
        reconnects = [0]
        attacker = threading.Thread(target=attack, args=(port, slow, until, reconnects))
        attacker.start()
        time.sleep(1)  # the slow connections are in
        latencies = honest(port, until)
        attacker.join()
    return latencies, reconnects[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=500)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument("--workers", type=int, default=5)
    args = parser.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as folder:
        results["SQLite, gunicorn (one worker)"] = run(f"sqlite:///{folder}/shop.db", [], args.slow, args.seconds)
    with fresh_pg_database() as url:
        results[f"PostgreSQL, gunicorn --workers {args.workers}"] = run(
            url, ["--workers", str(args.workers)], args.slow, args.seconds
        )
    print(f"{args.slow} slow connections held for {args.seconds:.0f} s; one honest client, a new connection a request")
    ok = True
    for name, (latencies, reconnects) in results.items():
        p99 = statistics.quantiles(latencies, n=100)[98] if len(latencies) > 1 else latencies[0]
        ok = ok and p99 < 1.0
        print(
            f"  {name:34} {len(latencies):>6} requests  p50 {statistics.median(latencies) * 1000:8.1f} ms  "
            f"p99 {p99 * 1000:8.1f} ms  max {max(latencies) * 1000:8.1f} ms  "
            f"(slow connections dropped and reopened: {reconnects})"
        )
    print(f"target: honest p99 < 1 s on both backends: {'met' if ok else 'NOT MET'}")
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
