"""Configuration, read in one place: environment variables with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Self

DEV_API_KEY = "dev-key-do-not-use-in-production"
DEFAULT_DATABASE_URL = "sqlite:///cauldrons.db"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
TEST_PG_SERVER = "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres"
EXCHANGE_ORIGIN = "https://potion-exchange.vercel.app"  # the exchange's web page, which calls the order search


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    api_key: str = DEV_API_KEY
    cors_origins: tuple[str, ...] = (EXCHANGE_ORIGIN,)
    secret_key: str | None = None  # signs page tokens; None: the shop's own secret, kept in its database
    metrics_fresh_seconds: float = 5.0  # how long a worker answers a metric's reply again (0: never)
    write_slots: int = 4  # writing units of work a worker runs at once, on PostgreSQL

    @property
    def uses_dev_key(self) -> bool:
        return self.api_key == DEV_API_KEY

    @classmethod
    def from_env(cls, host: str | None = None) -> Self:
        """`DATABASE_URL` (default: ./cauldrons.db), `API_KEY`, `CORS_ORIGINS` and `SECRET_KEY`. Without `API_KEY`
        only a server known to listen on loopback may start, on the documented dev key; with no host given
        (gunicorn), API_KEY is required. `CORS_ORIGINS` is a comma-separated list of web origins that may call the
        order search (default: the exchange's page; empty: none). `SECRET_KEY`, if set, signs the order search's
        page tokens instead of the secret the shop keeps in its database (`cauldrons secret rotate`); it must not be
        the API key, which page tokens must never let anyone test guesses of. `METRICS_FRESH_SECONDS` (default 5):
        how long each worker answers a `/metrics` reply again before asking the database anew (0: every time).
        `WRITE_SLOTS` (default 4, up to 100): on PostgreSQL, how many writing requests each worker runs at once; the
        others wait their turn in the worker, for up to 5 s."""
        api_key = os.environ.get("API_KEY")
        if not api_key and host not in LOOPBACK:
            raise ConfigError(f"set API_KEY before serving beyond this machine (host {host or 'unknown'})")
        secret_key = os.environ.get("SECRET_KEY") or None
        if secret_key is not None and secret_key == (api_key or DEV_API_KEY):
            raise ConfigError("SECRET_KEY must not be the API key: set a random secret of its own, or unset it")
        origins = os.environ.get("CORS_ORIGINS")
        try:
            fresh = float(os.environ.get("METRICS_FRESH_SECONDS") or cls.metrics_fresh_seconds)
        except ValueError:
            fresh = -1.0
        if not 0 <= fresh <= 3600:
            raise ConfigError("METRICS_FRESH_SECONDS must be a number of seconds from 0 to 3600")
        slots = os.environ.get("WRITE_SLOTS") or str(cls.write_slots)
        if not (slots.isascii() and slots.isdigit() and 1 <= int(slots) <= 100):
            raise ConfigError("WRITE_SLOTS must be a whole number from 1 to 100")
        return cls(
            os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            api_key or DEV_API_KEY,
            (EXCHANGE_ORIGIN,) if origins is None else tuple(o.strip() for o in origins.split(",") if o.strip()),
            secret_key,
            fresh,
            int(slots),
        )


def test_database_server() -> str:
    """Where tests and benchmarks make their throwaway PostgreSQL databases: `CAULDRONS_TEST_PG` (an admin URL)."""
    return os.environ.get("CAULDRONS_TEST_PG") or TEST_PG_SERVER
