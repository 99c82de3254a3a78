"""What stands between a server and the app: the request body read whole, and what is wrong with it answered in JSON.

`WholeBody` reads a request's body before the app sees it, at most the limit and one byte more, whatever the
framing (Content-Length or chunked), so the app never parses a body cut short and never blocks on a slow client:
- a declared body over the limit is left unread for the app to refuse (413, from Flask);
- a chunked body over the limit is refused here (413) after reading limit + 1 bytes, never cut and acted on;
- a body that ends early, whose chunk framing is broken, or whose Content-Length is not a length is a 400; a
  body not all there by the deadline (the client stopped sending, or trickles) is a 408. The connection is then
  read no further: what is left on it is not a request.
- a request without the key is not read at all: the app refuses it (401) and the server discards the body.
"""

from __future__ import annotations

import io
import re
import socket
import sys
import time
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext
from http import HTTPStatus
from typing import Any

from gunicorn.http.errors import ParseException

from service_layer.idempotency import JSON, encode

BODY_DEADLINE = 20.0  # seconds to receive a whole body, however it trickles
StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def error_response(status: int, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of a JSON error in the shop's shape, `{"error": code, "message": text}`, for
    errors found below the app."""
    code = re.sub(r"\W+", "_", HTTPStatus(status).phrase.lower()).strip("_")
    body = encode({"error": code, "message": message})
    return f"{status} {HTTPStatus(status).phrase}", [("Content-Type", JSON), ("Content-Length", str(len(body)))], body


def _stop_reading(environ: dict[str, Any]) -> None:
    """Read nothing more from this connection: what follows a body that could not be read is not a request. The
    servers would go on reading it (gunicorn ignores an app's `Connection: close`), so the socket is shut for
    reading."""
    if (connection := environ.get("gunicorn.socket") or environ.get("werkzeug.socket")) is not None:
        try:
            connection.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # already gone


class BodyUnreadable(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _deadline(seconds: float) -> AbstractContextManager[object]:
    """A bound on reading a whole body, however slowly it trickles in: under gevent (gunicorn's workers) a timeout
    that raises TimeoutError in the reading greenlet; under threads (werkzeug's server in a thread) the deadline is
    checked between reads, and a stalled client holds only its own thread."""
    monkey = sys.modules.get("gevent.monkey")
    if monkey is not None and monkey.is_module_patched("socket"):
        import gevent

        return gevent.Timeout(seconds, TimeoutError)
    return nullcontext()


class WholeBody:
    def __init__(
        self, app: WsgiApp, limit: int, may_send: Callable[[dict[str, Any]], bool], deadline: float = BODY_DEADLINE
    ) -> None:
        """`may_send(environ)` says whether the request may have its body read at all (it carries the key): a
        body the app will refuse unread is left to the server to discard. `deadline`: seconds to read a whole body
        (the server may change it)."""
        self.app, self.limit, self.may_send, self.deadline = app, limit, may_send, deadline

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            if self.may_send(environ):
                with _deadline(self.deadline):
                    self._buffer(environ, time.monotonic() + self.deadline)
        except BodyUnreadable as err:
            _stop_reading(environ)
            status, headers, body = error_response(err.status, str(err))
            start_response(status, headers)
            return [body]
        return self.app(environ, start_response)

    def _buffer(self, environ: dict[str, Any], deadline: float) -> None:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = environ.get("CONTENT_LENGTH", "").strip()
        if not chunked and not environ.get("wsgi.input_terminated") and not declared:
            return  # no body
        if declared and not chunked:
            if not re.fullmatch(r"[0-9]{1,12}", declared):
                raise BodyUnreadable(400, f"Content-Length {declared[:20]!r} is not a length")
            if int(declared) > self.limit:
                return  # the app refuses it (413) without reading it
            data = self._read(environ["wsgi.input"], int(declared), deadline)
            if len(data) < int(declared):
                raise BodyUnreadable(400, f"the body ended after {len(data)} of its {declared} bytes")
        else:
            data = self._read(environ["wsgi.input"], self.limit + 1, deadline)
            if len(data) > self.limit:
                raise BodyUnreadable(413, f"the body is over the limit of {self.limit} bytes")
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)

    @staticmethod
    def _read(stream: Any, most: int, deadline: float) -> bytes:
        """Up to `most` bytes, fewer only at the end of the body; past `deadline` (a monotonic time) a 408. A stream
        that can hand over what has arrived (`read1`: werkzeug's socket file) is checked between reads; one
        that cannot (gunicorn's body reader) is bounded by `_deadline` instead."""
        read = getattr(stream, "read1", None) or stream.read
        parts, left = [], most
        try:
            while left > 0 and (part := read(min(left, 65536))):
                parts.append(part)
                left -= len(part)
                if time.monotonic() > deadline:
                    raise TimeoutError
        except TimeoutError:
            raise BodyUnreadable(408, "the body did not arrive in time") from None
        except (OSError, ValueError, ParseException) as err:  # the chunk framing is broken, or the client left
            raise BodyUnreadable(400, f"the body could not be read: {err}") from None
        return b"".join(parts)
