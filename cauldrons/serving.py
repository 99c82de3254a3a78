"""The two ways to serve: werkzeug's threaded server (SQLite, one process) and gunicorn's worker processes
(PostgreSQL), both hardened for the open internet.

- Slow clients: gunicorn runs `ShopWorker`, a gevent worker (psycopg2 made cooperative by psycogreen), so a
  connection that sends half a request costs a greenlet, not a worker: hundreds of them leave honest clients
  served. The dev server has a thread per connection. On both, a connection that stops sending is dropped after
  a short read timeout (headers: gunicorn's keep-alive timeout; every read: the socket's timeout).
- Bodies are read whole, within the limit, before the app sees them (`cauldrons.wsgi.WholeBody`).
- Errors the servers themselves send (a request line over 8 kB, a header over 8 kB, bad framing, control
  characters, Transfer-Encoding with Content-Length, a line ending in a bare LF, a request target that is not
  ASCII) are JSON `{error, message}` like the app's, never HTML, and both servers refuse the same requests; both
  read past chunk extensions (`5;name=value`), which HTTP/1.1 allows and gives no meaning here.
- The contract's `access_token` header: WSGI servers drop header names with underscores (they would collide with
  dashed ones in the environ, and `SCRIPT_NAME` would move the app's root). gunicorn drops them all but this one
  (`forwarder_headers`), which it maps with `Access-Token` to one variable, joining repeated values with a comma;
  the dev server is taught to read the header the same way, so a key sent twice is refused on both.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO, Any, cast

import gunicorn.util
from flask import Flask
from gunicorn.app.base import BaseApplication
from gunicorn.workers.base_async import AsyncWorker
from gunicorn.workers.ggevent import GeventWorker
from werkzeug.serving import DechunkedInput, WSGIRequestHandler, make_server, run_simple

from cauldrons.config import Config
from cauldrons.wsgi import error_document

CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # in a header value (a tab is allowed), as gunicorn refuses
TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")  # RFC 9110: a method or header name
AUTH_HEADER = "ACCESS_TOKEN"  # the environ's spelling of `access_token`
LIMIT_LINE = 8190  # the longest request line and header line either server reads (gunicorn's maximum)
TARGET = re.compile(r"[\x21-\x7e]+")  # RFC 9112: a request target is visible ASCII
CHUNK_SIZE = re.compile(r"[0-9A-Fa-f]{1,16}")  # as gunicorn reads one
READ_TIMEOUT = 10.0  # seconds a connection may go without sending while a request is being read
WORKER_CONNECTIONS = 1000  # connections a gevent worker holds at once (gunicorn's default, said here)
HEADERS_TIMEOUT = 5  # seconds gunicorn allows for a request's headers (and between requests on a connection)


class ChunkedBody(DechunkedInput):
    """werkzeug's reader of a chunked body, reading past chunk extensions and refusing what gunicorn refuses: a
    size that is not hex digits (werkzeug's `int(..., 16)` would take `0x5` or `+5`)."""

    def read_chunk_len(self) -> int:
        line = self._rfile.readline(LIMIT_LINE).decode("latin-1")
        size = line.split(";", 1)[0].strip(" \t\r\n")
        if not CHUNK_SIZE.fullmatch(size):
            raise OSError(f"the chunk size {size[:20]!r} is not hex digits")
        return int(size, 16)


class CrlfLines:
    """The connection's reader as http.server reads a request's header lines from it, noting a line that ends in a
    bare LF (gunicorn refuses one; http.server would take it)."""

    def __init__(self, rfile: Any) -> None:
        self.rfile, self.bare_lf = rfile, False

    def readline(self, limit: int = -1) -> bytes:
        line: bytes = self.rfile.readline(limit)
        self.bare_lf |= line.endswith(b"\n") and not line.endswith(b"\r\n")
        return line


class ShopRequestHandler(WSGIRequestHandler):
    timeout = READ_TIMEOUT  # socketserver sets it on the connection: every read is bounded (a subclass may change it)

    def _refuse(self, status: int, message: str) -> bool:
        """Answer a request refused before it was understood (with a status line, whatever it claimed to be)."""
        self.requestline, self.request_version, self.command = "", "HTTP/1.1", ""
        self.send_error(status, message)
        return False

    def parse_request(self) -> bool:
        """http.server's parsing, held to what gunicorn refuses, so both servers refuse the same requests."""
        if len(self.raw_requestline) > LIMIT_LINE:
            return self._refuse(414, f"the request line is over {LIMIT_LINE} bytes")
        words = str(self.raw_requestline, "iso-8859-1").rstrip("\r\n").split(" ")
        if len(words) != 3 or not TOKEN.fullmatch(words[0]) or words[2] not in ("HTTP/1.0", "HTTP/1.1"):
            return self._refuse(400, "the request line is not METHOD TARGET HTTP/1.x")
        if not self.raw_requestline.endswith(b"\r\n"):
            return self._refuse(400, "the request line does not end in CRLF")
        if not TARGET.fullmatch(words[1]):
            return self._refuse(400, "the request target is not visible ASCII")
        lines = CrlfLines(self.rfile)
        self.rfile = cast(io.BufferedIOBase, lines)  # http.server only calls its readline while parsing headers
        try:
            if not super().parse_request():
                return False
        finally:
            self.rfile = lines.rfile
        if lines.bare_lf:
            self.send_error(400, "a header line does not end in CRLF")
            return False
        if self.headers.defects or any(not TOKEN.fullmatch(name) for name in self.headers.keys()):
            self.send_error(400, "a header name is not a token")
            return False
        if len(set(self.headers.get_all("Content-Length") or [])) > 1:
            self.send_error(400, "a request may not have two Content-Lengths")
            return False
        if any(len(name) + len(value) + 2 > LIMIT_LINE for name, value in self.headers.items()):
            self.send_error(431, f"a header line is over {LIMIT_LINE} bytes")
            return False
        if any(CONTROL.search(value) for value in self.headers.values()):
            self.send_error(400, "a header value holds a control character")
            return False
        if "Transfer-Encoding" in self.headers and "Content-Length" in self.headers:
            self.send_error(400, "a request may not have both Transfer-Encoding and Content-Length")
            return False
        return True

    def make_environ(self) -> Any:
        environ = super().make_environ()
        values = [v.strip(" \t") for name, v in self.headers.items() if name.upper().replace("-", "_") == AUTH_HEADER]
        if values:
            environ[f"HTTP_{AUTH_HEADER}"] = ",".join(values)
        if isinstance(environ["wsgi.input"], DechunkedInput):  # werkzeug found the body chunked
            environ["wsgi.input"] = ChunkedBody(cast(IO[bytes], self.rfile))
        return environ

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """What http.server sends as HTML, in the shop's JSON shape."""
        body = error_document(code, message or explain or self.responses.get(code, ("error",))[0])
        self.log_error("code %d, message %s", code, message)
        self.send_response(code)
        self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class QuietRequestHandler(ShopRequestHandler):
    """The dev server's handler without a log line per request (the simulator sends thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def serve_in_thread(app: Flask, quiet: bool = True) -> Iterator[str]:
    """Serve `app` with the dev server's handler in a background thread on a free loopback port until the block
    ends; yields its base URL."""
    server = make_server(
        "127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler if quiet else ShopRequestHandler
    )
    thread = threading.Thread(target=server.serve_forever, name="shop-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def run_dev_server(app: Flask, host: str, port: int, read_timeout: float = READ_TIMEOUT) -> None:
    handler = type("ShopRequestHandler", (ShopRequestHandler,), {"timeout": read_timeout})
    run_simple(host, port, app, threaded=True, request_handler=handler)


def write_json_error(sock: Any, status_int: int, reason: str, mesg: str) -> None:
    """gunicorn's `util.write_error`, in the shop's JSON shape (gunicorn writes its own errors with it)."""
    body = error_document(status_int, mesg or reason)
    head = (
        f"HTTP/1.1 {status_int} {reason}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    )
    gunicorn.util.write_nonblock(sock, head.encode("latin-1") + body)


class ShopWorker(GeventWorker):  # type: ignore[misc]
    """gunicorn's gevent worker, with psycopg2 cooperative, a read timeout on every connection and JSON errors."""

    read_timeout = READ_TIMEOUT  # set by `run_gunicorn` in the master, before it forks

    def patch(self) -> None:
        from psycogreen.gevent import patch_psycopg

        super().patch()  # gevent's monkey-patching of the standard library
        patch_psycopg()  # a query waiting on PostgreSQL yields to the other connections
        gunicorn.util.write_error = write_json_error

    def handle(self, listener: Any, client: Any, addr: Any) -> None:
        client.settimeout(self.read_timeout)
        # Not GeventWorker.handle: all it adds is making the socket blocking, which would lift the timeout.
        AsyncWorker.handle(self, listener, client, addr)


class ShopServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, embedded: several worker processes, each with its own app, engine and connection pool.

    The master migrates and opens the shop once before forking, so workers (and the ones gunicorn restarts after
    a crash) only connect.
    """

    def __init__(self, config: Config, options: dict[str, Any]) -> None:
        self.config, self.options = config, options

        super().__init__()

    def load_config(self) -> None:
        for name, value in self.options.items():
            self.cfg.set(name, value)

    def load(self) -> Flask:
        from cauldrons.app import create_app
        from cauldrons.bootstrap import bootstrap

        wiring = bootstrap(self.config, prepare=False)
        return create_app(self.config, uow_factory=wiring.uow_factory)


def run_gunicorn(config: Config, host: str, port: int, workers: int, read_timeout: float = READ_TIMEOUT) -> None:
    from cauldrons.bootstrap import bootstrap

    bootstrap(config).engine.dispose()  # migrate and open once, in the master
    ShopWorker.read_timeout = read_timeout
    ShopServer(
        config,
        {
            "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
            "workers": workers,
            "worker_class": "cauldrons.serving.ShopWorker",
            "keepalive": max(1, int(min(HEADERS_TIMEOUT, read_timeout))),  # whole seconds
            "limit_request_line": LIMIT_LINE,
            "limit_request_field_size": LIMIT_LINE,
            # Headers with underscores are dropped (a client's SCRIPT_NAME must not move the app's root), but for the
            # contract's access_token, let through from any peer; and no peer may claim https by a header.
            "header_map": "drop",
            "forwarder_headers": "ACCESS_TOKEN",
            "forwarded_allow_ips": "*",
            "secure_scheme_headers": {},
            "worker_connections": WORKER_CONNECTIONS,
            "proc_name": "cauldrons",
            "graceful_timeout": 10,
            "control_socket_disable": True,  # one per user by default: two shops on one machine would fight over it
        },
    ).run()
