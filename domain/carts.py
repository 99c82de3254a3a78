"""Customers and their carts. A cart collects (sku, quantity) lines until it is checked out or closed."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from domain.errors import CartClosed


@dataclass(frozen=True)
class Customer:
    customer_id: str
    customer_name: str
    character_class: str
    character_species: str
    level: int


class CartStatus(enum.StrEnum):
    OPEN = "open"
    CHECKED_OUT = "checked_out"
    CLOSED = "closed"  # by a reset, unsold


@dataclass(eq=False)
class CartLine:
    sku: str
    quantity: int
    unit_price: int | None = None  # what the catalog asks for it now, as read with the cart (None: not read)


class Cart:
    """An entity: two carts are the same cart when their ids match."""

    def __init__(self, customer: Customer, cart_id: int | None = None) -> None:
        self.cart_id = cart_id
        self.customer_id = customer.customer_id
        self.customer_name = customer.customer_name
        self.character_class = customer.character_class
        self.character_species = customer.character_species
        self.level = customer.level
        self.lines: list[CartLine] = []
        self.status = CartStatus.OPEN  # -> CHECKED_OUT, or CLOSED by a reset
        self.payment: str | None = None

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cart) and other.cart_id == self.cart_id

    def __hash__(self) -> int:
        return hash(self.cart_id)

    def __repr__(self) -> str:
        return f"<Cart {self.cart_id} {self.status}>"

    @property
    def customer(self) -> Customer:
        return Customer(self.customer_id, self.customer_name, self.character_class, self.character_species, self.level)

    @property
    def is_open(self) -> bool:
        return self.status == CartStatus.OPEN

    def set_quantity(self, sku: str, quantity: int) -> None:
        """Set (not add) how many of `sku` the cart holds."""
        if not self.is_open:
            raise CartClosed(self.cart_id)
        for line in self.lines:
            if line.sku == sku:
                line.quantity = quantity
                return
        self.lines.append(CartLine(sku, quantity))

    def check_out(self, payment: str) -> list[CartLine]:
        """Close the cart for sale and return its lines."""
        if not self.is_open:
            raise CartClosed(self.cart_id)
        self.status = CartStatus.CHECKED_OUT
        self.payment = payment
        return [line for line in self.lines if line.quantity]

    def close(self) -> None:
        if self.is_open:
            self.status = CartStatus.CLOSED
