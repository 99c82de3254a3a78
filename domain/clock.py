"""Game time, as the exchange tells it: a named day and an hour."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

DAYS: tuple[str, ...] = ("Edgeday", "Bloomday", "Arcanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")
# Each name the exchange may send for a day of the week, with its place (0 = Edgeday): the course template's
# exchange spells day 3 "Aracanaday".
WEEKDAYS: dict[str, int] = {**{day: n for n, day in enumerate(DAYS)}, "Aracanaday": 2}


def day_index(day: str | None) -> int | None:
    """The day's place in the week (0 = Edgeday), whichever spelling; None for a name not in the week."""
    return WEEKDAYS.get(day) if day is not None else None


@dataclass(frozen=True)
class GameTime:
    day: str
    hour: int


def utcnow() -> datetime:
    """The wall clock, as the ledger stores times: naive UTC on both backends."""
    return datetime.now(UTC).replace(tzinfo=None)
