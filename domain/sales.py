"""The record of every line sold, and the order search the exchange's web page runs over it.

A checkout appends one `SaleLine` per potion line it sold, stamped with the sale transaction's time, game time and
id: the shop's sales fact table. Lines are never changed; a price change later never rewrites what was paid.

Search filters by case-insensitive *contains* on the customer's name and the potion's sku, sorts by one column in
either direction with the line's id as the tie-break, and pages by keyset: a page starts strictly after (or ends
strictly before) a `Position`, the sort value and id of a line. Letter case is folded for ASCII letters only, the
same on every backend (SQLite's and PostgreSQL's "C" collation fold no other letters), and text sorts by code point.
"""

from __future__ import annotations

import enum
import string
from dataclasses import dataclass
from datetime import datetime

from domain.carts import Customer
from domain.clock import GameTime
from domain.text import storable

PAGE_SIZE = 5  # results per page: the course template's
# What a position may hold is what the sale lines' columns hold (BIGINT ids and totals, text, naive timestamps); a
# keyset steps one past a position's id, so ids stop one short of BIGINT's ends.
BIGINT_MIN, BIGINT_MAX = -(2**63), 2**63 - 1
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def fold(text: str) -> str:
    """Lower-case the ASCII letters of `text`, and nothing else: case-insensitive as every backend compares."""
    return text.translate(_ASCII_LOWER)


class SortColumn(enum.StrEnum):
    CUSTOMER_NAME = "customer_name"
    ITEM_SKU = "item_sku"
    LINE_ITEM_TOTAL = "line_item_total"
    TIMESTAMP = "timestamp"


class SortOrder(enum.StrEnum):
    ASC = "asc"
    DESC = "desc"


@dataclass(frozen=True)
class SaleLine:
    """One line of a checked-out cart: what was sold, to whom, at what unit price."""

    cart_id: int
    sku: str
    potion_name: str
    quantity: int
    unit_price: int
    customer: Customer

    @property
    def total(self) -> int:
        return self.quantity * self.unit_price

    @property
    def item_sku(self) -> str:
        """What the order search shows: the quantity and the potion's name, e.g. "2 red potion"."""
        return f"{self.quantity} {self.potion_name.lower()}"


@dataclass(frozen=True)
class SoldLine:
    """A sale line as the books hold it: numbered, and stamped with its sale transaction."""

    line_item_id: int
    line: SaleLine
    sold_at: datetime  # naive UTC, the sale transaction's time
    game_time: GameTime | None
    transaction_id: int
    item_sku: str  # as recorded with the sale (what is shown and sorted), whatever formatting comes later

    def sort_value(self, column: SortColumn) -> str | int | datetime:
        match column:
            case SortColumn.CUSTOMER_NAME:
                return self.line.customer.customer_name
            case SortColumn.ITEM_SKU:
                return self.item_sku
            case SortColumn.LINE_ITEM_TOTAL:
                return self.line.total
            case SortColumn.TIMESTAMP:
                return self.sold_at


@dataclass(frozen=True)
class Position:
    """Where a page starts or ends: a line's sort value and id."""

    value: str | int | datetime
    line_item_id: int

    def check(self) -> None:
        """Refuses (ValueError) a position no sale line could hold, as one brought from outside might be: an id or a
        total beyond BIGINT, text with a NUL or a lone surrogate, a time with a zone (the books' are naive UTC)."""
        value = self.value
        if not BIGINT_MIN < self.line_item_id < BIGINT_MAX:
            raise ValueError(f"a line id is a BIGINT (and not at either end), not {self.line_item_id}")
        if isinstance(value, int) and not BIGINT_MIN <= value <= BIGINT_MAX:
            raise ValueError(f"a total is a BIGINT, not {value}")
        if isinstance(value, str) and not storable(value):
            raise ValueError("text holds no NUL and no lone surrogate")
        if isinstance(value, datetime) and value.tzinfo is not None:
            raise ValueError("a time is naive UTC")


@dataclass(frozen=True)
class SearchQuery:
    customer_name: str = ""  # "" matches every line
    potion_sku: str = ""
    sort_col: SortColumn = SortColumn.TIMESTAMP
    sort_order: SortOrder = SortOrder.DESC

    def position(self, sold: SoldLine) -> Position:
        return Position(sold.sort_value(self.sort_col), sold.line_item_id)

    def descending(self, backward: bool) -> bool:
        """Whether a scan runs from the highest position down: a backward scan runs against the sort order."""
        return (self.sort_order is SortOrder.DESC) != backward


@dataclass(frozen=True)
class Cursor:
    """A page to fetch: the lines after `position` in sort order, or (`backward`) the lines just before it."""

    position: Position
    backward: bool = False


@dataclass(frozen=True)
class SearchPage:
    results: list[SoldLine]
    previous: Cursor | None
    next: Cursor | None
