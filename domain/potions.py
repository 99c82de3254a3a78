"""Potions, their recipes, and the liquid they are made of."""

from __future__ import annotations

from dataclasses import dataclass

COLOURS: tuple[str, ...] = ("red", "green", "blue", "dark")
ML_PER_POTION = 100
CATALOG_SIZE = 6  # the exchange shows customers at most six potions


@dataclass(frozen=True)
class PotionType:
    """A recipe: percent of red, green, blue and dark; 100 in all (one potion is 100 ml)."""

    red: int
    green: int
    blue: int
    dark: int

    def __post_init__(self) -> None:
        parts = self.as_list()
        if any(not isinstance(p, int) or p < 0 for p in parts) or sum(parts) != ML_PER_POTION:
            raise ValueError(f"a potion type is four whole percents >= 0 summing to 100, not {parts}")

    @classmethod
    def of(cls, parts: list[int] | tuple[int, ...]) -> PotionType:
        return cls(*parts)

    def as_list(self) -> list[int]:
        return [self.red, self.green, self.blue, self.dark]

    def ml(self, quantity: int) -> dict[str, int]:
        """ml of each colour that `quantity` potions of this type use."""
        return {colour: pct * quantity for colour, pct in zip(COLOURS, self.as_list())}


@dataclass(frozen=True)
class Potion:
    """What the shop sells: one sku, one recipe, one price."""

    sku: str
    name: str
    potion_type: PotionType
    price: int


@dataclass(frozen=True)
class Barrel:
    """A wholesale barrel offer or delivery line; `potion_type` holds colour fractions summing to 1."""

    sku: str
    ml_per_barrel: int
    potion_type: tuple[float, float, float, float]
    price: int
    quantity: int

    def ml(self, quantity: int | None = None) -> dict[str, int]:
        """Whole ml of each colour in `quantity` barrels (default: all), totalling exactly ml_per_barrel·quantity.

        Fractions (which may miss 1.0 by a rounding error) are scaled to sum to exactly 1, and become whole ml by the
        largest-remainder method, so no ml is created or lost.
        """
        n = self.quantity if quantity is None else quantity
        total = self.ml_per_barrel * n
        share = sum(self.potion_type)
        exact = [total * f / share if share else 0.0 for f in self.potion_type]
        whole = [int(x) for x in exact]
        short = total - sum(whole)
        by_remainder = sorted(range(4), key=lambda i: exact[i] - whole[i], reverse=True)
        for i in by_remainder[: max(short, 0)]:
            whole[i] += 1
        return dict(zip(COLOURS, whole))

    @property
    def cost(self) -> int:
        return self.price * self.quantity


DEFAULT_POTIONS: tuple[Potion, ...] = (
    Potion("RED_POTION", "Red Potion", PotionType(100, 0, 0, 0), 50),
    Potion("GREEN_POTION", "Green Potion", PotionType(0, 100, 0, 0), 50),
    Potion("BLUE_POTION", "Blue Potion", PotionType(0, 0, 100, 0), 60),
    Potion("DARK_POTION", "Dark Potion", PotionType(0, 0, 0, 100), 75),
    Potion("PURPLE_POTION", "Purple Potion", PotionType(50, 0, 50, 0), 55),
    Potion("YELLOW_POTION", "Yellow Potion", PotionType(50, 50, 0, 0), 50),
    Potion("TEAL_POTION", "Teal Potion", PotionType(0, 50, 50, 0), 55),
)


def _blend(first: str, second: str, share: int) -> Potion:
    """A two-colour blend: `share` percent of `first`, the rest `second` (sku e.g. RED75_GREEN25)."""
    parts = {c: 0 for c in COLOURS}
    rest = 100 - share
    parts[first], parts[second] = share, rest
    return Potion(
        f"{first.upper()}{share}_{second.upper()}{rest}",
        f"{first.title()}-{second.title()} Potion ({share}/{rest})",
        PotionType(*parts.values()),
        55,
    )


# Blends in quarters, for classes whose taste lies between two colours: the halves with dark, and every 75/25 pair.
BLENDS: tuple[Potion, ...] = tuple(
    [_blend(a, "dark", 50) for a in ("red", "green", "blue")]
    + [_blend(a, b, 75) for a in COLOURS for b in COLOURS if a != b]
)
