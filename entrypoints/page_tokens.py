"""The order search's page tokens: opaque, signed, and bound to the search they page through.

A token carries a cursor (the sort value and line id where a page starts or ends, and which way to read) and the
search it belongs to (filters and sort). It is signed with itsdangerous under a key derived from the shop's API key,
so a token made up, altered, or brought to another search is refused with a 422 naming `search_page`, never read
as some other page. Rotating the API key retires every token handed out before.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, cast

from itsdangerous import BadData, URLSafeSerializer

from domain.sales import Cursor, Position, SearchQuery, SortColumn
from entrypoints.http import RequestInvalid

FIELD = "search_page"


def _invalid(problem: str) -> RequestInvalid:
    return RequestInvalid(f"invalid {FIELD}", {FIELD: [problem]})


class PageTokens:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="cauldrons.carts.search")

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
        except BadData:
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
                value = datetime.fromisoformat(value)
            wanted = {SortColumn.TIMESTAMP: datetime, SortColumn.LINE_ITEM_TOTAL: int}.get(query.sort_col, str)
            if not (type(value) is wanted and type(line_id) is int and type(backward) is bool):
                raise ValueError
        except (TypeError, ValueError):
            raise _invalid("not a page token this shop handed out: its position is malformed") from None
        return Cursor(Position(cast(Any, value), line_id), backward=backward)
