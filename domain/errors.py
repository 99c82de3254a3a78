"""Every refusal the shop can give, named for what went wrong.

`ShopError` subclasses are answers to a client (the entrypoints map each to a status code). `LedgerInvariantViolated`
is not: it means a bug built an impossible transaction, and it is never caught to make a 4xx.
"""

from __future__ import annotations


class ShopError(Exception):
    """A request the shop understands but refuses; nothing it asked for happened."""


class InsufficientGold(ShopError):
    def __init__(self, needed: int, available: int) -> None:
        super().__init__(f"this needs {needed} gold but the shop has {available}")


class InsufficientMl(ShopError):
    def __init__(self, colour: str, needed: int, available: int) -> None:
        super().__init__(f"this needs {needed} ml of {colour} but the shop has {available}")


class InsufficientStock(ShopError):
    def __init__(self, sku: str, needed: int, available: int) -> None:
        super().__init__(f"this needs {needed} of {sku} but the shop has {available}")


class InsufficientCapacity(ShopError):
    def __init__(self, what: str, needed: int, limit: int, units: bool = False) -> None:
        super().__init__(
            f"this needs {needed} {what} units but the shop has {limit}"
            if units
            else f"this would hold {needed} {what} but capacity is {limit}"
        )


class CartNotFound(ShopError):
    def __init__(self, cart_id: object) -> None:
        super().__init__(f"there is no cart {cart_id}")


class CartClosed(ShopError):
    def __init__(self, cart_id: object) -> None:
        super().__init__(f"cart {cart_id} is closed")


class UnknownSku(ShopError):
    def __init__(self, sku: str) -> None:
        super().__init__(f"the shop sells no potion with sku {sku!r}")


class UnknownPotionType(ShopError):
    def __init__(self, potion_type: object) -> None:
        super().__init__(f"the shop sells no potion with recipe {list(potion_type)}")  # type: ignore[call-overload]


class UnknownAccount(ShopError):
    def __init__(self, account: object) -> None:
        super().__init__(f"there is no account {account} that can be corrected")


class IdempotencyKeyReused(ShopError):
    def __init__(self, route: str, key: str) -> None:
        super().__init__(f"key {key!r} was already used on {route} with a different payload")


class LedgerInvariantViolated(Exception):
    """A transaction that does not net to zero per commodity: a programming error, never a client's."""
