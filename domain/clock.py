"""Game time, as the exchange tells it: a named day and an hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

DAYS: tuple[str, ...] = ("Edgeday", "Bloomday", "Arcanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")


@dataclass(frozen=True)
class GameTime:
    day: str
    hour: int


def utcnow() -> datetime:
    """The wall clock, as the ledger stores times: naive UTC on both backends."""
    return datetime.now(UTC).replace(tzinfo=None)
