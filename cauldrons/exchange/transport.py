"""One request to the shop and its answer, over real HTTP (http.client).

It sends the API key in the contract's `access_token` header (with an underscore) and JSON bodies; a request's
body is encoded once, so a retry sends the very same bytes.
"""

from __future__ import annotations

import abc
import http.client
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

AUTH_HEADER = "access_token"
KEY_HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


def encode(body: Any) -> bytes | None:
    return None if body is None else json.dumps(body, separators=(",", ":")).encode()


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    body: bytes | None = None
    key: str | None = None  # sent as the Idempotency-Key header
    keyed: bool = False  # processed once per key (the header's, or the path's id): a 2xx retry must be a replay

    @classmethod
    def post(cls, path: str, body: Any = None, key: str | None = None, keyed: bool | None = None) -> Request:
        return cls("POST", path, encode(body), key, key is not None if keyed is None else keyed)

    def headers(self, api_key: str) -> dict[str, str]:
        headers = {AUTH_HEADER: api_key, "Accept": "application/json"}
        if self.body is not None:
            headers["Content-Type"] = "application/json"
        if self.key is not None:
            headers[KEY_HEADER] = self.key
        return headers

    def __str__(self) -> str:
        return f"{self.method} {self.path}" + (f" [key {self.key}]" if self.key else "")


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes = b""
    replayed: bool = False
    headers: Mapping[str, str] = field(default_factory=dict, compare=False)
    seconds: float = field(default=0.0, compare=False)  # from sending the request to the last byte of the answer

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    @property
    def error(self) -> str:
        """The contract's error code of a refusal ("insufficient_stock"), or the status if the body has none."""
        try:
            body = self.json()
        except ValueError:
            body = None
        return body["error"] if isinstance(body, dict) and isinstance(body.get("error"), str) else str(self.status)

    def same_as(self, other: Answer) -> bool:
        return (self.status, self.body) == (other.status, other.body)

    def __str__(self) -> str:
        return f"{self.status}{' replayed' if self.replayed else ''}" + (
            f" {self.body[:80].decode(errors='replace')}" if self.body else ""
        )


class TransportError(OSError):
    """No answer came back (the connection failed); the request may or may not have been processed."""


class Transport(abc.ABC):
    """Sends one request and returns its answer. Safe to call from several threads at once."""

    @abc.abstractmethod
    def send(self, request: Request) -> Answer:
        """The shop's answer; raises TransportError when none came back."""

    def get(self, path: str) -> Answer:
        return self.send(Request("GET", path))

    def post(self, path: str, body: Any = None, key: str | None = None) -> Answer:
        return self.send(Request.post(path, body, key))

    def close(self) -> None:  # noqa: B027 - transports with nothing to release need not override it
        """Release connections."""


class HttpTransport(Transport):
    """Real HTTP with http.client: one keep-alive connection per thread."""

    def __init__(self, base_url: str, api_key: str, timeout: float = 60) -> None:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {base_url!r}")
        self.api_key = api_key
        self._scheme, self._host, self._port = parts.scheme, parts.hostname, parts.port
        self._prefix = parts.path.rstrip("/")
        self._timeout = timeout
        self._local = threading.local()
        self._all: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            kind = http.client.HTTPSConnection if self._scheme == "https" else http.client.HTTPConnection
            connection = kind(self._host, self._port, timeout=self._timeout)
            self._local.connection = connection
            with self._lock:
                self._all.append(connection)
        return connection

    def send(self, request: Request) -> Answer:
        reused = getattr(self._local, "connection", None) is not None
        connection = self._connection()
        started = time.perf_counter()
        try:
            connection.request(
                request.method, self._prefix + request.path, body=request.body, headers=request.headers(self.api_key)
            )
            response = connection.getresponse()
            body = response.read()
        except (OSError, http.client.HTTPException) as err:
            connection.close()
            self._local.connection = None
            closed = isinstance(err, (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError))
            if reused and closed and request.method == "GET":  # the server closed the idle connection: ask again
                return self.send(request)
            raise TransportError(f"{request}: {err!r}") from err
        if response.will_close:
            connection.close()
            self._local.connection = None
        return Answer(
            response.status,
            body,
            response.getheader(REPLAYED_HEADER) == "true",
            dict(response.getheaders()),
            time.perf_counter() - started,
        )

    def connection_port(self) -> int:
        """The local port of this thread's keep-alive connection (which the server knows it by)."""
        connection = getattr(self._local, "connection", None)
        if connection is None or connection.sock is None:
            raise TransportError("not connected")
        return int(connection.sock.getsockname()[1])

    def close(self) -> None:
        with self._lock:
            for connection in self._all:
                connection.close()
            self._all.clear()
