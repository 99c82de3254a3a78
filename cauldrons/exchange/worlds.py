"""The world profiles `cauldrons simulate --world NAME` plays: `2026` (the default) and `classic`."""

from __future__ import annotations

from cauldrons.exchange import classic, world2026
from cauldrons.exchange.world import World

WORLDS: dict[str, World] = {world2026.NAME: world2026.WORLD, classic.NAME: classic.WORLD}
DEFAULT = world2026.NAME


def named(name: str) -> World:
    """The profile called `name`; a ValueError naming the choices otherwise."""
    try:
        return WORLDS[name]
    except KeyError:
        raise ValueError(f"no world {name!r}: choose one of {', '.join(WORLDS)}") from None
