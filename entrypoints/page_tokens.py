"""The order search's page tokens: opaque, signed, and bound to the search they page through.

A token carries a cursor (the sort value and line id where a page starts or ends, and which way to read) and the
search it belongs to (filters and sort). It is signed with itsdangerous under a secret of the shop's own, never
derived from the API key: tokens travel in URLs and land in logs, and one must not let its reader test guesses of
the key offline. The secret is `SECRET_KEY` if set, else a random one kept in the database (`cauldrons secret
rotate` replaces it); it is read afresh for each search (`PageTokens.now`), so a rotation retires every token
handed out before, in every process, while rotating the API key retires none.

A token made up, altered, signed under another secret, brought to another search, or holding a position no sale
line could have (an id or total beyond BIGINT, text with a NUL or a lone surrogate, a time with a zone) is refused
with a 422 naming `search_page`, never read as some other page.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from datetime import datetime
from typing import Any, cast

from itsdangerous import BadData, URLSafeSerializer

from domain.sales import Cursor, Position, SearchQuery, SortColumn
from domain.text import storable
from entrypoints.http import RequestInvalid

FIELD = "search_page"
SALT = "cauldrons.carts.search"


def _invalid(problem: str) -> RequestInvalid:
    return RequestInvalid(f"invalid {FIELD}", {FIELD: [problem]})


@functools.lru_cache(maxsize=8)
def _serializer(secret: str) -> URLSafeSerializer:
    return URLSafeSerializer(secret, salt=SALT)


class PageTokens:
    """Signs and checks page tokens under the secret `secret()` gives when `now` is called."""

    def __init__(self, secret: Callable[[], str]) -> None:
        self._secret = secret

    def now(self) -> PageSigner:
        """Tokens under the secret as it is now: one search signs and checks with the same one."""
        return PageSigner(self._secret())


class PageSigner:
    def __init__(self, secret: str) -> None:
        self._serializer = _serializer(secret)

    @staticmethod
    def _search(query: SearchQuery) -> list[str]:
        return [query.customer_name, query.potion_sku, query.sort_col.value, query.sort_order.value]

    def dump(self, query: SearchQuery, cursor: Cursor) -> str:
        value = cursor.position.value
        return self._serializer.dumps(
            {
                "search": self._search(query),
                "backward": cursor.backward,
                "id": cursor.position.line_item_id,
                "value": value.isoformat() if isinstance(value, datetime) else value,
            }
        )

    def load(self, token: str, query: SearchQuery) -> Cursor:
        try:
            data: Any = self._serializer.loads(token)
        except (BadData, RecursionError):  # RecursionError: JSON nested past what the parser follows
            raise _invalid("not a page token this shop handed out: take it from a reply's previous or next") from None
        if not isinstance(data, dict) or data.get("search") != self._search(query):
            raise _invalid(
                "this token pages through another search: send the same filters and sort as the search that gave it"
            )
        value: Any = data.get("value")
        line_id: Any = data.get("id")
        backward: Any = data.get("backward")
        try:
            if query.sort_col is SortColumn.TIMESTAMP:
                if not storable(value):  # Python's parser takes "...T00:00:00\x00" for a time
                    raise ValueError
                value = datetime.fromisoformat(value)
            wanted = {SortColumn.TIMESTAMP: datetime, SortColumn.LINE_ITEM_TOTAL: int}.get(query.sort_col, str)
            if not (type(value) is wanted and type(line_id) is int and type(backward) is bool):
                raise ValueError
            position = Position(cast(Any, value), line_id)
            position.check()
        except (TypeError, ValueError):
            raise _invalid("not a page token this shop handed out: its position is malformed") from None
        return Cursor(position, backward=backward)
