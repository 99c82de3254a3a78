"""The two ways to serve: werkzeug's single-process server (SQLite, development) and gunicorn's worker processes.

Both are taught to pass on the contract's `access_token` header.

WSGI servers drop header names with underscores (they would collide with dashed ones in the environ), so werkzeug's
server and gunicorn both lose `access_token` by default. Here the one header the contract names is mapped; under
gunicorn, `--header-map dangerous` does the same (README).
"""
from __future__ import annotations

from typing import Any

from flask import Flask
from gunicorn.app.base import BaseApplication
from werkzeug.serving import WSGIRequestHandler, run_simple

from cauldrons.config import Config

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


class ShopServer(BaseApplication):  # type: ignore[misc]
    """gunicorn, embedded: several worker processes, each with its own app, engine and connection pool.

    The master migrates and opens the shop once before forking, so workers (and the ones gunicorn restarts after
    a crash) only connect. Sync workers by default; `threads` > 1 gives gthread workers.
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

        return create_app(self.config, uow_factory=bootstrap(self.config, prepare=False).uow_factory)


def run_gunicorn(config: Config, host: str, port: int, workers: int, threads: int = 1) -> None:
    from cauldrons.bootstrap import bootstrap

    bootstrap(config).engine.dispose()  # migrate and open once, in the master
    ShopServer(config, {
        "bind": f"[{host}]:{port}" if ":" in host else f"{host}:{port}",
        "workers": workers,
        "threads": threads,
        "header_map": "dangerous",  # pass on the contract's access_token header (see the module's docstring)
        "proc_name": "cauldrons",
        "graceful_timeout": 10,
        "control_socket_disable": True,  # one per user by default: two shops on one machine would fight over it
    }).run()
