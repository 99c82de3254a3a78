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

    @property
    def uses_dev_key(self) -> bool:
        return self.api_key == DEV_API_KEY

    @classmethod
    def from_env(cls, host: str | None = None) -> Self:
        """`DATABASE_URL` (default: ./cauldrons.db), `API_KEY` and `CORS_ORIGINS`. Without `API_KEY` only a server
        known to listen on loopback may start, on the documented dev key; with no host given (gunicorn), API_KEY is
        required. `CORS_ORIGINS` is a comma-separated list of web origins that may call the order search (default:
        the exchange's page; empty: none)."""
        api_key = os.environ.get("API_KEY")
        if not api_key and host not in LOOPBACK:
            raise ConfigError(f"set API_KEY before serving beyond this machine (host {host or 'unknown'})")
        origins = os.environ.get("CORS_ORIGINS")
        return cls(
            os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            api_key or DEV_API_KEY,
            (EXCHANGE_ORIGIN,) if origins is None else tuple(o.strip() for o in origins.split(",") if o.strip()),
        )


def test_database_server() -> str:
    """Where tests and benchmarks make their throwaway PostgreSQL databases: `CAULDRONS_TEST_PG` (an admin URL)."""
    return os.environ.get("CAULDRONS_TEST_PG") or TEST_PG_SERVER
