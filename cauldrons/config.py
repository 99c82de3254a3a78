"""Configuration, read in one place: environment variables with local defaults."""
from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Self

DEV_API_KEY = "dev-key-do-not-use-in-production"
DEFAULT_DATABASE_URL = "sqlite:///cauldrons.db"
LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


class ConfigError(Exception):
    pass


@dataclass(frozen=True)
class Config:
    database_url: str = DEFAULT_DATABASE_URL
    api_key: str = DEV_API_KEY

    @property
    def uses_dev_key(self) -> bool:
        return self.api_key == DEV_API_KEY

    @classmethod
    def from_env(cls, host: str | None = None) -> Self:
        """`DATABASE_URL` (default: ./cauldrons.db) and `API_KEY`. Without `API_KEY` only a server known to listen
        on loopback may start, on the documented dev key; with no host given (gunicorn), API_KEY is required."""
        api_key = os.environ.get("API_KEY")
        if not api_key and host not in LOOPBACK:
            raise ConfigError(f"set API_KEY before serving beyond this machine (host {host or 'unknown'})")
        return cls(os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL, api_key or DEV_API_KEY)
