"""The shop itself, for a run without --url: the real app over a temporary SQLite database, served in a background
thread on a free loopback port. Stopped and removed afterwards."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from cauldrons.app import create_app
from cauldrons.bootstrap import bootstrap
from cauldrons.config import Config
from cauldrons.serving import serve_in_thread


@dataclass(frozen=True)
class EmbeddedShop:
    url: str  # the shop's base URL
    database_url: str  # its database, there until the block ends


@contextmanager
def embedded(api_key: str) -> Iterator[EmbeddedShop]:
    """Serve a fresh shop; yields where it is served and its database."""
    with tempfile.TemporaryDirectory(prefix="cauldrons-simulate-") as folder:
        config = Config(f"sqlite:///{folder}/shop.db", api_key)
        wiring = bootstrap(config)
        try:
            with serve_in_thread(create_app(config, uow_factory=wiring.uow_factory)) as url:
                yield EmbeddedShop(url, config.database_url)
        finally:
            wiring.engine.dispose()


@contextmanager
def embedded_shop(api_key: str) -> Iterator[str]:
    """Serve a fresh shop; yields its base URL."""
    with embedded(api_key) as shop:
        yield shop.url
