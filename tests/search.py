"""Helpers the order-search tests share: made-up sale lines with many ties, the expected answer by plain sorting, and
a walk through every page both ways."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import datetime, timedelta

from domain.carts import Customer
from domain.potions import DEFAULT_POTIONS
from domain.sales import PAGE_SIZE, SaleLine, SearchPage, SearchQuery, SoldLine, SortColumn, SortOrder, fold
from service_layer import views
from service_layer.unit_of_work import AbstractUnitOfWork

# Names with letter case, LIKE's metacharacters, a backslash and letters beyond ASCII (whose case is not folded).
NAMES = ("Alice", "alice", "ALICE BLUE", "Bob_1", "Bob11", "50% off", "500 off", "back\\slash", "Émile", "émile", "Zed")
# Needles of every length; of one and two characters: in many lines ("a", "e", "LI"), in few ("_", "%", "\\", "É",
# "z", "0%", "11", "MI", "_p"), in none ("q", "zz", "é_").
NEEDLES = ("", "a", "ALI", "_", "%", "\\", "É", "e", "z", "q", "LI", "MI", "11", "é_", "bob_", "b_b", "0%", "zz")
NEEDLES += ("potion", "RED", "_p")
QUERIES = [
    SearchQuery(name, sku, col, order)
    for name in ("", "ali", "_", "%", "É", "a", "Z", "q", "li", "0%", "zz")
    for sku in ("", "red", "_P")
    for col in SortColumn
    for order in SortOrder
]
T0 = datetime(2026, 11, 27, 14, 3, 11, 250_000)


# Many names, each in a line or two: a needle of one or two characters is in many names ("a", "or"), a few ("7",
# "q", "x_", "É") or none ("j", "zz"), and the names by one customer's sort fall between many others.
MANY_NAMES = tuple(
    f"{first}{last}"
    for first in ("Kal", "mor", "ÉL", "Zar", "Nyx_")
    for last in ("an", "dor", " 7", "qu", "or", "ith", "é", " Vex")
)
MANY_NAMES += ("Kal" * 25 + " 1", "Kal" * 25 + " 2")  # longer than an identifier (63 bytes), alike up to their end
SHORT_NEEDLES = ("a", "OR", "7", "2", "q", "x_", "É", "j", "zz", " ", "r ")


def made_up_lines(rng: random.Random, count: int, names: tuple[str, ...] = NAMES) -> list[tuple[SaleLine, datetime]]:
    """(line, sale time) pairs: few distinct names (of `names`), skus, totals and times, so sorts meet many ties."""
    out = []
    for i in range(count):
        potion = rng.choice(DEFAULT_POTIONS)
        name = rng.choice(names)
        customer = Customer(
            f"c-{i}", name, rng.choice(["Wizard", "Rogue"]), rng.choice(["Elf", "Dwarf"]), rng.randint(1, 20)
        )
        line = SaleLine(i + 1, potion.sku, potion.name, rng.randint(1, 3), rng.choice([50, 55, 60]), customer)
        out.append((line, T0 + timedelta(seconds=rng.randint(0, 4), microseconds=rng.randint(0, 2) * 1000)))
    return out


def matches(query: SearchQuery, sold: SoldLine) -> bool:
    """The search's filters, as the order search states them (`domain.sales`): case-insensitive *contains* on the
    customer's name and the potion's sku, ASCII letters folded and no others, wildcards taken literally."""
    return fold(query.customer_name) in fold(sold.line.customer.customer_name) and fold(query.potion_sku) in fold(
        sold.line.sku
    )


def expected(lines: list[SoldLine], query: SearchQuery) -> list[SoldLine]:
    """The matching lines, sorted by (value, id) in the query's order: what paging must visit, in order."""
    return sorted(
        (s for s in lines if matches(query, s)),
        key=lambda s: (s.sort_value(query.sort_col), s.line_item_id),
        reverse=query.sort_order is SortOrder.DESC,
    )


def walk(query: SearchQuery, new_uow: Callable[[], AbstractUnitOfWork]) -> tuple[list[SoldLine], list[SearchPage]]:
    """Follow `next` from the first page to the last, then `previous` back to the first, checking that the pages met
    on the way back are the pages met on the way forward; return every line in page order, and the pages."""
    pages = [views.search_orders(query, None, new_uow())]
    while pages[-1].next is not None:
        pages.append(views.search_orders(query, pages[-1].next, new_uow()))
    assert all(len(p.results) == PAGE_SIZE for p in pages[:-1]), "only the last page may be short"
    back = pages[-1]
    for page in reversed(pages[:-1]):
        assert back.previous is not None
        back = views.search_orders(query, back.previous, new_uow())
        assert back == page
    assert back.previous is None
    return [line for page in pages for line in page.results], pages
