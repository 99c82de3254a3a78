"""What the tests and the benchmarks share: throwaway PostgreSQL databases, free ports, and the shop served as a
real process (`cauldrons serve`: gunicorn) that is stopped afterwards."""

from __future__ import annotations

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

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from cauldrons.config import test_database_server
from cauldrons.exchange.transport import HttpTransport


@contextmanager
def fresh_pg_database(template: str | None = None, prefix: str = "cauldrons_test") -> Iterator[str]:
    """A new PostgreSQL database (a copy of `template`, or empty), dropped afterwards; yields its URL."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(test_database_server(), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else "")))
    try:
        yield make_url(test_database_server()).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass(frozen=True)
class Server:
    url: str
    pid: int  # the server process (gunicorn's master: its children are the workers)

    def workers(self) -> list[int]:
        with open(f"/proc/{self.pid}/task/{self.pid}/children") as f:
            return [int(p) for p in f.read().split()]

    def worker_using(self, port: int) -> int:
        """The pid of the worker with a TCP connection one end of which is on `port` (an ephemeral port: a client's
        connection to the shop, or a worker's to its database)."""
        import psutil  # the tests' and benchmarks' dependency, not the shop's

        for pid in self.workers():
            for c in psutil.Process(pid).net_connections("tcp"):
                if c.laddr.port == port or (c.raddr and c.raddr.port == port):
                    return pid
        raise RuntimeError(f"no worker has a connection on port {port}")

    def worker_of(self, client: HttpTransport) -> int:
        """The pid of the worker holding `client`'s keep-alive connection."""
        client.get("/catalog/")  # connected, and the connection accepted
        return self.worker_using(client.connection_port())

    def client_elsewhere(self, other: HttpTransport, timeout: float = 60) -> HttpTransport:
        """A new client (with `other`'s key and `timeout`) whose connection another worker than `other`'s holds.
        The connections tried on the way are held open until one lands elsewhere: closed at once, the same idle worker
        could take every new one."""
        tried: list[HttpTransport] = []
        try:
            for _ in range(100):
                client = HttpTransport(self.url, other.api_key, timeout)
                if self.worker_of(client) != self.worker_of(other):
                    return client
                tried.append(client)
            raise RuntimeError("every new connection went to the same worker")
        finally:
            for client in tried:
                client.close()


def wait_until_up(url: str, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited with {process.returncode}")
        try:
            if HttpTransport(url, "").get("/catalog/").status == 200:
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the server at {url} did not answer within {timeout} s")


@contextmanager
def serve(command: list[str], env: dict[str, str], port: int, show_log: bool = False) -> Iterator[Server]:
    """Run a server command in its own process group until the block ends (its output dropped unless `show_log`)."""
    log = None if show_log else open(os.devnull, "wb")
    process = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=log, start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, process)
        yield Server(url, process.pid)
    finally:
        process.send_signal(signal.SIGINT)  # a quick shutdown; gevent workers would still wait out the
        try:  # keep-alive connections of clients for gunicorn's graceful timeout, which a test need not
            process.wait(timeout=1)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if log is not None:
            log.close()


@contextmanager
def shop_process(database_url: str, api_key: str, *options: str, env: dict[str, str] | None = None) -> Iterator[Server]:
    """`cauldrons serve [options]` on a free port, over `database_url` (with `env` besides)."""
    port = free_port()
    command = [sys.executable, "-m", "cauldrons", "serve", "--port", str(port), *options]
    with serve(command, {**(env or {}), "DATABASE_URL": database_url, "API_KEY": api_key}, port) as server:
        yield server
