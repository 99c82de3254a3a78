"""What stands between a server and the app: the request body read whole, and errors at the server's level in JSON.

`WholeBody` reads a request's body before the app sees it, at most the limit and one byte more, whatever the
framing (Content-Length or chunked), so the app never parses a body cut short and never blocks on a slow client:
- a declared body over the limit is left unread for the app to refuse (413, from Flask);
- a chunked body over the limit is refused here (413) after reading limit + 1 bytes, never cut and acted on;
- a body that ends early, or whose chunk framing is broken, is a 400; a client that stops sending until the
  server's read timeout is a 408. The connection is then read no further: what is left on it is not a request.
"""

from __future__ import annotations

import io
import re
import socket
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from gunicorn.http.errors import ParseException

from service_layer.idempotency import JSON, encode

StartResponse = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


def error_document(status: int, message: str) -> bytes:
    """The shop's error shape, `{"error": code, "message": text}`, for errors found below the app."""
    code = re.sub(r"\W+", "_", HTTPStatus(status).phrase.lower()).strip("_")
    return encode({"error": code, "message": message})


def error_response(status: int, message: str) -> tuple[str, list[tuple[str, str]], bytes]:
    """(status line, headers, body) of a JSON error."""
    body = error_document(status, message)
    return f"{status} {HTTPStatus(status).phrase}", [("Content-Type", JSON), ("Content-Length", str(len(body)))], body


def _stop_reading(environ: dict[str, Any]) -> None:
    """Read nothing more from this connection: what follows a body that could not be read is not a request.
    gunicorn would go on reading it (it ignores an app's `Connection: close`), so its socket is shut for reading;
    the dev server closes every connection after one request anyway."""
    if (connection := environ.get("gunicorn.socket")) is not None:
        try:
            connection.shutdown(socket.SHUT_RD)
        except OSError:
            pass  # already gone


class BodyUnreadable(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class WholeBody:
    def __init__(self, app: WsgiApp, limit: int) -> None:
        self.app, self.limit = app, limit

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            self._buffer(environ)
        except BodyUnreadable as err:
            _stop_reading(environ)
            status, headers, body = error_response(err.status, str(err))
            start_response(status, headers)
            return [body]
        return self.app(environ, start_response)

    def _buffer(self, environ: dict[str, Any]) -> None:
        chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        declared = environ.get("CONTENT_LENGTH", "").strip()
        if not chunked and not environ.get("wsgi.input_terminated") and not declared:
            return  # no body
        if declared and not chunked:
            if not declared.isdigit() or int(declared) > self.limit:
                return  # the app refuses it (400 or 413) without reading it
            data = self._read(environ["wsgi.input"], int(declared))
            if len(data) < int(declared):
                raise BodyUnreadable(400, f"the body ended after {len(data)} of its {declared} bytes")
        else:
            data = self._read(environ["wsgi.input"], self.limit + 1)
            if len(data) > self.limit:
                raise BodyUnreadable(413, f"the body is over the limit of {self.limit} bytes")
        environ["wsgi.input"] = io.BytesIO(data)
        environ["CONTENT_LENGTH"] = str(len(data))
        environ.pop("HTTP_TRANSFER_ENCODING", None)
        environ.pop("wsgi.input_terminated", None)

    @staticmethod
    def _read(stream: Any, most: int) -> bytes:
        """Up to `most` bytes, fewer only at the end of the body."""
        parts, left = [], most
        try:
            while left > 0 and (part := stream.read(min(left, 65536))):
                parts.append(part)
                left -= len(part)
        except TimeoutError:
            raise BodyUnreadable(408, "the body did not arrive in time") from None
        except (OSError, ValueError, ParseException) as err:  # the chunk framing is broken, or the client left
            raise BodyUnreadable(400, f"the body could not be read: {err}") from None
        return b"".join(parts)
