"""The development server, taught to pass on the contract's `access_token` header.

WSGI servers drop header names with underscores (they would collide with dashed ones in the environ), so werkzeug's
server and gunicorn both lose `access_token` by default. Here the one header the contract names is mapped; under
gunicorn, `--header-map dangerous` does the same (README).
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from werkzeug.serving import WSGIRequestHandler, run_simple

AUTH_HEADER = "access_token"


class ShopRequestHandler(WSGIRequestHandler):
    def make_environ(self) -> Any:
        environ = super().make_environ()
        token = self.headers.get(AUTH_HEADER)
        if token is not None:
            environ["HTTP_ACCESS_TOKEN"] = token
        return environ


def run_dev_server(app: Flask, host: str, port: int) -> None:
    run_simple(host, port, app, threaded=True, request_handler=ShopRequestHandler)
