"""A real HTTP server (the dev server's own request handler) on a free port, for tests that need real sockets."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask
from werkzeug.serving import make_server

from cauldrons.serving import ShopRequestHandler


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    headers: dict[str, str]

    def json(self) -> Any:
        return json.loads(self.body)


@contextmanager
def serving(app: Flask) -> Iterator[str]:
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=ShopRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()


def call(
    url: str, method: str = "GET", body: Any = None, api_key: str | None = None, headers: dict[str, str] | None = None
) -> Answer:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        url, data=data, method=method, headers={"Content-Type": "application/json", **(headers or {})}
    )
    if api_key is not None:
        request.add_header("access_token", api_key)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return Answer(response.status, response.read(), dict(response.headers))
    except urllib.error.HTTPError as err:
        return Answer(err.code, err.read(), dict(err.headers))
