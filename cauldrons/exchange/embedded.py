"""The shop itself, for a run without --url: the real app over a temporary SQLite database, served in a background
thread by werkzeug with the dev server's request handler, on a free loopback port. Stopped and removed afterwards."""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from werkzeug.serving import make_server

from cauldrons.app import create_app
from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from cauldrons.serving import ShopRequestHandler


class QuietRequestHandler(ShopRequestHandler):
    """The dev server's handler without a log line per request (the simulator sends thousands)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


@contextmanager
def embedded_shop(api_key: str) -> Iterator[str]:
    """Serve a fresh shop; yields its base URL."""
    with tempfile.TemporaryDirectory(prefix="cauldrons-simulate-") as folder:
        config = Config(f"sqlite:///{folder}/shop.db", api_key)
        wiring = bootstrap(config)
        try:
            app = create_app(config, uow_factory=wiring.uow_factory)
            server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=QuietRequestHandler)
            thread = threading.Thread(target=server.serve_forever, name="embedded-shop", daemon=True)
            thread.start()
            try:
                yield f"http://127.0.0.1:{server.server_port}"
            finally:
                server.shutdown()
                server.server_close()
                thread.join()
        finally:
            wiring.engine.dispose()
