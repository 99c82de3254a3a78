"""Request bodies, with the bounds of API.md. Every schema raises on unknown fields and on wrong JSON types.

Ceilings the contract leaves open (barrel sizes and prices, cart quantities, list lengths, string lengths) are set
far above anything the exchange sends, so that no number can overflow a database column or an int64 sum.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from marshmallow import EXCLUDE, Schema, ValidationError, fields, post_load, validate, validates_schema

from domain.carts import Customer
from domain.metrics import DEFAULT_POINTS, MAX_POINTS, MetricsQuery
from domain.planners import MAX_BOTTLES_PER_MIX
from domain.potions import Barrel, PotionType
from domain.sales import SearchQuery, SortColumn, SortOrder
from domain.text import storable

BIG = 1_000_000  # ceiling for barrel sizes, prices and quantities, and for cart quantities
MAX_LIST = 1000  # ceiling for the length of any list body
TEXT = validate.Length(min=1, max=255)
ACCOUNT = r"^[a-z_]{1,32}/[A-Za-z0-9_:]{1,64}$"  # owner/commodity, e.g. shop/gold or shop/potion:RED_POTION
MAX_PAGE = 500  # ceiling for a page of ledger history


class WholeNumber(fields.Integer):
    """A JSON integer: not a string, not a float, not a boolean."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> int:
        if isinstance(value, bool):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs)


class Fraction(fields.Float):
    """A JSON number (integer or float), finite; -0.0 is 0.0, so it fingerprints as the same payload."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.make_error("invalid")
        return super()._deserialize(value, attr, data, **kwargs) + 0.0  # -0.0 + 0.0 is 0.0


NOT_TEXT = "must be text without NUL characters or lone surrogates"


class Text(fields.String):
    """A JSON string (or a query parameter) that every backend can store (`storable`)."""

    default_error_messages = {"not_text": NOT_TEXT}

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> str:
        text = super()._deserialize(value, attr, data, **kwargs)
        if not storable(text):
            raise self.make_error("not_text")
        return text


class BarrelSchema(Schema):
    sku = Text(required=True, validate=validate.Length(min=1, max=64))
    ml_per_barrel = WholeNumber(required=True, validate=validate.Range(min=1, max=BIG))
    potion_type = fields.List(
        Fraction(validate=validate.Range(min=0, max=1)), required=True, validate=validate.Length(equal=4)
    )
    price = WholeNumber(required=True, validate=validate.Range(min=0, max=BIG))
    quantity = WholeNumber(required=True, validate=validate.Range(min=0, max=BIG))

    @validates_schema
    def fractions_sum_to_one(self, data: dict[str, Any], **_: Any) -> None:
        parts = data.get("potion_type")
        if parts and len(parts) == 4 and not math.isclose(sum(parts), 1.0, abs_tol=1e-6):
            raise ValidationError("fractions must sum to 1.0", "potion_type")

    @validates_schema(pass_collection=True)
    def skus_are_unique(self, data: Any, many: bool = False, **_: Any) -> None:
        if not many:
            return
        seen: set[str] = set()
        duplicates = {}
        for i, item in enumerate(data):
            if item["sku"] in seen:
                duplicates[i] = {"sku": ["this sku is already in the list"]}
            seen.add(item["sku"])
        if duplicates:
            raise ValidationError(duplicates)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Barrel:
        return Barrel(data["sku"], data["ml_per_barrel"], tuple(data["potion_type"]), data["price"], data["quantity"])


class PotionMixSchema(Schema):
    potion_type = fields.List(
        WholeNumber(validate=validate.Range(min=0, max=100)), required=True, validate=validate.Length(equal=4)
    )
    quantity = WholeNumber(required=True, validate=validate.Range(min=1, max=MAX_BOTTLES_PER_MIX))

    @validates_schema
    def percents_sum_to_100(self, data: dict[str, Any], **_: Any) -> None:
        parts = data.get("potion_type")
        if parts and len(parts) == 4 and sum(parts) != 100:
            raise ValidationError("percents must sum to 100", "potion_type")

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> tuple[PotionType, int]:
        return PotionType.of(data["potion_type"]), data["quantity"]


class CustomerSchema(Schema):
    customer_id = Text(required=True, validate=TEXT)
    customer_name = Text(required=True, validate=TEXT)
    character_class = Text(required=True, validate=TEXT)
    character_species = Text(required=True, validate=TEXT)
    level = WholeNumber(required=True, validate=validate.Range(min=1, max=20))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> Customer:
        return Customer(**data)


class CartItemSchema(Schema):
    quantity = WholeNumber(required=True, validate=validate.Range(min=1, max=BIG))


class CheckoutSchema(Schema):
    payment = Text(required=True, validate=validate.Length(max=255))


class CapacitySchema(Schema):
    potion_capacity = WholeNumber(required=True, validate=validate.Range(min=0, max=10))
    ml_capacity = WholeNumber(required=True, validate=validate.Range(min=0, max=10))


class GameTimeSchema(Schema):
    day = Text(required=True, validate=validate.Length(min=1, max=20))
    hour = WholeNumber(required=True, validate=validate.Range(min=0, max=23))


class EmptySchema(Schema):
    """For POSTs that take no body: nothing, or `{}`."""


class Timestamp(fields.DateTime):
    """An ISO 8601 timestamp; one with an offset is turned into UTC, one without is taken to be UTC already."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(format="iso", **kwargs)

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> datetime:
        if isinstance(value, str) and not storable(value):  # Python's parser takes "...T00:00:00\x00" for a time
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE)
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment
        except OverflowError:  # e.g. 9999-12-31T23:00-05:00 is past the last moment a datetime can hold
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from None


class AsOfSchema(Schema):
    at = Timestamp(load_default=None)


class AuditQuerySchema(AsOfSchema):
    """The audit is a contract route: parameters other than `at` (a cache-buster, say) are ignored, not refused."""

    class Meta:
        unknown = EXCLUDE


class HistorySchema(Schema):
    account = Text(load_default=None, validate=validate.Regexp(ACCOUNT, error="must be owner/commodity"))
    since = Timestamp(load_default=None)
    until = Timestamp(load_default=None)
    cursor = fields.String(
        load_default=None, validate=validate.Regexp(r"^[1-9][0-9]{0,17}$", error="must be a next_cursor from a reply")
    )
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PAGE))


class CorrectionSchema(Schema):
    account = Text(required=True, validate=validate.Regexp(ACCOUNT, error="must be owner/commodity"))
    change = WholeNumber(
        required=True, validate=[validate.Range(min=-BIG, max=BIG), validate.NoneOf([0], error="must not be 0")]
    )
    reason = Text(required=True, validate=TEXT)


class SearchSchema(Schema):
    """The order search's query string (the course template's `GET /carts/search/`). Other parameters (a
    cache-buster, say) are ignored."""

    class Meta:
        unknown = EXCLUDE

    customer_name = Text(load_default="", validate=validate.Length(max=255))
    potion_sku = Text(load_default="", validate=validate.Length(max=255))
    search_page = fields.String(load_default="", validate=validate.Length(max=4096))  # tokens hold the filters
    sort_col = fields.Enum(SortColumn, by_value=True, load_default=SortColumn.TIMESTAMP)
    sort_order = fields.Enum(SortOrder, by_value=True, load_default=SortOrder.DESC)

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> tuple[SearchQuery, str]:
        """(the search, the page token or "")"""
        return SearchQuery(data["customer_name"], data["potion_sku"], data["sort_col"], data["sort_order"]), data[
            "search_page"
        ]


class MetricsSchema(Schema):
    """A metric's query string: wall time in [since, until], a game day and hour. Unknown parameters are refused."""

    since = Timestamp(load_default=None)
    until = Timestamp(load_default=None)
    day = Text(load_default=None, validate=validate.Length(min=1, max=20))
    hour = fields.Integer(load_default=None, validate=validate.Range(min=0, max=23))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> MetricsQuery:
        return MetricsQuery(**data)


class BalancesSchema(Schema):
    """The balances over time: wall time in [since, until], and at most `points` ticks."""

    since = Timestamp(load_default=None)
    until = Timestamp(load_default=None)
    points = fields.Integer(load_default=DEFAULT_POINTS, validate=validate.Range(min=1, max=MAX_POINTS))

    @post_load
    def make(self, data: dict[str, Any], **_: Any) -> MetricsQuery:
        return MetricsQuery(**data)
