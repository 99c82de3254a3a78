"""How the shop is served: `cauldrons serve` runs gunicorn with its gevent worker on both backends (one worker on
SQLite, which takes one writer at a time; `--workers` on PostgreSQL); `serve_in_thread` runs werkzeug's server in a
thread, for the embedded shop of `cauldrons simulate` and for tests.

gunicorn is extended only through its documented settings and hooks:
- Slow clients: a connection that sends half a request costs a greenlet, not a worker (psycopg2 is made cooperative
  by psycogreen in the `post_fork` hook), so hundreds of them leave honest clients served. Its headers must arrive
  within the keep-alive timeout and its body within twice the read timeout (`cauldrons.wsgi.WholeBody`); then it is
  dropped.
- Bodies are read whole, within the limit, before the app sees them (`cauldrons.wsgi.WholeBody`): what is wrong
  with a body (its framing, its length, its pace) is answered by the app, in JSON.
- What is wrong with a request's line or headers (over 8 kB, bad framing, control characters, Transfer-Encoding
  with Content-Length, a bare LF, a target that is not ASCII) is answered by gunicorn before the app sees it: the
  status is right but the body is gunicorn's short HTML page, not the shop's JSON, as gunicorn has no setting or
  hook for its error page.
- The contract's `access_token` header: WSGI servers drop header names with underscores (they would collide with
  dashed ones in the environ, and `SCRIPT_NAME` would move the app's root). gunicorn drops them all but this one
  (`forwarder_headers`), which it maps with `Access-Token` to one variable, joining repeated values with a comma;
  the in-process server is taught to read the header the same way, so a key sent twice is refused on both.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from werkzeug.serving import WSGIRequestHandler, make_server

from cauldrons.config import Config

AUTH_HEADER = "ACCESS_TOKEN"  # the environ's spelling of `access_token`
LIMIT_LINE = 8190  # the longest request line and header line gunicorn reads (its maximum)
READ_TIMEOUT = 10.0  # seconds a connection may go without sending while a request is being read
WORKER_CONNECTIONS = 1000  # connections a gevent worker holds at once (gunicorn's default, said here)
HEADERS_TIMEOUT = 5  # seconds gunicorn allows for a request's headers (and between requests on a connection)


class InProcessRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, reading the contract's `access_token` header as gunicorn does, and without a
    log line per request (the simulator sends thousands)."""

    def make_environ(self) -> Any:
        environ = super().make_environ()
        values = [v.strip(" \t") for name, v in self.headers.items() if name.upper().replace("-", "_") == AUTH_HEADER]
        if values:
            environ[f"HTTP_{AUTH_HEADER}"] = ",".join(values)
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_in_thread(app: Flask) -> Iterator[str]:
    """Serve `app` with werkzeug's threaded server in a background thread on a free loopback port until the block
    ends; yields its base URL."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=InProcessRequestHandler)
    thread = threading.Thread(target=server.serve_forever, name="shop-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def make_psycopg_cooperative(server: Any, worker: Any) -> None:
    """gunicorn's `post_fork` hook: in each worker, before it connects, a query waiting on PostgreSQL yields to the
    worker's other connections."""
    from psycogreen.gevent import patch_psycopg

    patch_psycopg()


class ShopServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, embedded: worker processes, each with its own app, engine and connection pool.

    The master migrates and opens the shop once before forking, so workers (and the ones gunicorn restarts after
    a crash) only connect.
    """

    def __init__(self, config: Config, options: dict[str, Any], read_timeout: float = READ_TIMEOUT) -> None:
        self.config, self.options, self.read_timeout = config, options, read_timeout
        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        from cauldrons.app import create_app
        from cauldrons.bootstrap import bootstrap

        wiring = bootstrap(self.config, prepare=False)
        # gunicorn reads sockets without a timeout: the body's pace is bounded by the app's own deadline
        return create_app(self.config, uow_factory=wiring.uow_factory, body_deadline=2 * self.read_timeout)


def run_gunicorn(config: Config, host: str, port: int, workers: int, read_timeout: float = READ_TIMEOUT) -> None:
    """Serve the shop with gunicorn's gevent workers until it is stopped (SIGINT, SIGTERM)."""
    from cauldrons.bootstrap import bootstrap

    bootstrap(config).engine.dispose()  # migrate and open once, in the master
    ShopServer(
        config,
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "gevent",
            "worker_connections": WORKER_CONNECTIONS,
            "post_fork": make_psycopg_cooperative,
            "keepalive": max(1, int(min(HEADERS_TIMEOUT, read_timeout))),  # whole seconds, for headers too
            "limit_request_line": LIMIT_LINE,
            "limit_request_field_size": LIMIT_LINE,
            # Headers with underscores are dropped (a client's SCRIPT_NAME must not move the app's root), but for the
            # contract's access_token, let through from any peer; and no peer may claim https by a header.
            "header_map": "drop",
            "forwarder_headers": AUTH_HEADER,
            "forwarded_allow_ips": "*",
            "secure_scheme_headers": {},
            "proc_name": "cauldrons",
            "graceful_timeout": 10,
            "control_socket_disable": True,  # one per user by default: two shops on one machine would fight over it
        },
        read_timeout,
    ).run()
