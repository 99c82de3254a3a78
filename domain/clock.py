"""Game time, as the exchange tells it: a named day and an hour."""
from __future__ import annotations

from dataclasses import dataclass

DAYS: tuple[str, ...] = ("Edgeday", "Bloomday", "Arcanaday", "Hearthday", "Crownday", "Blesseday", "Soulday")


@dataclass(frozen=True)
class GameTime:
    day: str
    hour: int
