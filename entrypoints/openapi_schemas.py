"""The shapes of the shop's replies, for the OpenAPI document only (`entrypoints/openapi.py`).

Request bodies and query strings are documented from the schemas the routes validate with (`entrypoints/schemas.py`);
replies are built by the views and services as plain data, so their shapes are written down here, as marshmallow
schemas, with the bounds the contract promises. Nothing here runs when a request is answered. Every schema refuses
unknown fields, so the document says `additionalProperties: false` and a reply with a field it does not name fails
the contract fuzzer's schema check.
"""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from domain.metrics import Metric
from domain.sales import PAGE_SIZE
from entrypoints.schemas import GameTimeSchema, Timestamp, WholeNumber

SKU = r"^[a-zA-Z0-9_]{1,20}$"  # API.md's CatalogItem sku
MAX_CATALOG_QUANTITY = 10_000  # API.md: a catalog item's quantity is 1..10000
NOT_NEGATIVE = validate.Range(min=0)


def _recipe(low: int, high: int) -> fields.List:
    return fields.List(
        WholeNumber(validate=validate.Range(min=low, max=high)), required=True, validate=validate.Length(equal=4)
    )


class ErrorSchema(Schema):
    """Every refusal: a code, a message a person can read, and for a 422 `validation_error` the bad fields."""

    error = fields.String(required=True, metadata={"description": "what went wrong, e.g. `cart_not_found`"})
    message = fields.String(required=True)
    fields_ = fields.Dict(
        data_key="fields",
        keys=fields.String(),
        values=fields.List(fields.String()),
        metadata={"description": "each bad field's path (e.g. `0.potion_type`) and its problems"},
    )


class MessageSchema(Schema):
    message = fields.String(required=True)


class CatalogItemSchema(Schema):
    sku = fields.String(required=True, validate=validate.Regexp(SKU))
    name = fields.String(required=True)
    quantity = WholeNumber(required=True, validate=validate.Range(min=1, max=MAX_CATALOG_QUANTITY))
    price = WholeNumber(required=True, validate=validate.Range(min=1, max=500))
    potion_type = _recipe(0, 100)


class BarrelOrderSchema(Schema):
    """A barrel the shop wants: a sku from the offer and how many (at most what was offered)."""

    sku = fields.String(required=True)
    quantity = WholeNumber(required=True, validate=validate.Range(min=1))


class NewCartSchema(Schema):
    cart_id = WholeNumber(required=True, validate=validate.Range(min=1))


class CheckoutReplySchema(Schema):
    total_potions_bought = WholeNumber(required=True, validate=NOT_NEGATIVE)
    total_gold_paid = WholeNumber(required=True, validate=NOT_NEGATIVE)


class AuditSchema(Schema):
    number_of_potions = WholeNumber(required=True, validate=NOT_NEGATIVE)
    ml_in_barrels = WholeNumber(required=True, validate=NOT_NEGATIVE)
    gold = WholeNumber(required=True, validate=NOT_NEGATIVE)


class AccountSchema(Schema):
    account = fields.String(required=True, metadata={"example": "shop/gold"})
    owner = fields.String(required=True)
    commodity = fields.String(required=True)
    balance = WholeNumber(required=True, metadata={"description": "counter-accounts may be negative"})


class AccountsSchema(Schema):
    as_of = Timestamp(required=True)
    accounts = fields.List(fields.Nested(AccountSchema), required=True)


class EntrySchema(Schema):
    account = fields.String(required=True)
    change = WholeNumber(required=True)
    balance_after = WholeNumber(required=True)


class RequestRefSchema(Schema):
    """The request that booked a transaction: its idempotency scope and key."""

    route = fields.String(required=True)
    key = fields.String(required=True)


class PostedTransactionSchema(Schema):
    id = WholeNumber(required=True, validate=validate.Range(min=1))
    created_at = Timestamp(required=True)
    kind = fields.String(required=True, metadata={"example": "sale"})
    description = fields.String(required=True)
    game_time = fields.Nested(GameTimeSchema, required=True, allow_none=True)
    request = fields.Nested(RequestRefSchema, required=True, allow_none=True)
    entries = fields.List(fields.Nested(EntrySchema), required=True)


class TransactionsPageSchema(Schema):
    transactions = fields.List(fields.Nested(PostedTransactionSchema), required=True)
    next_cursor = fields.String(
        required=True, allow_none=True, metadata={"description": "send it back as `cursor`; null on the last page"}
    )


class CorrectionReplySchema(Schema):
    transaction_id = WholeNumber(required=True, validate=validate.Range(min=1))
    account = fields.String(required=True)
    change = WholeNumber(required=True)
    balance = WholeNumber(required=True)


class SoldLineSchema(Schema):
    line_item_id = WholeNumber(required=True, validate=validate.Range(min=1))
    item_sku = fields.String(required=True, metadata={"example": "2 red potion"})
    customer_name = fields.String(required=True)
    line_item_total = WholeNumber(required=True, validate=NOT_NEGATIVE)
    timestamp = Timestamp(required=True)


class SearchPageSchema(Schema):
    previous = fields.String(required=True, allow_none=True, metadata={"description": "send it back as search_page"})
    next = fields.String(required=True, allow_none=True, metadata={"description": "send it back as search_page"})
    results = fields.List(fields.Nested(SoldLineSchema), required=True, validate=validate.Length(max=PAGE_SIZE))


# --- the metrics (`GET /metrics/...`): one row shape per metric -------------------------------------------------


def _count() -> fields.Integer:
    return fields.Integer(required=True, validate=NOT_NEGATIVE)


def _gold() -> fields.Integer:
    return fields.Integer(required=True)


def _hour() -> fields.Integer:
    return fields.Integer(required=True, validate=validate.Range(min=0, max=23))


class SalesByHourRowSchema(Schema):
    day = fields.String(required=True)
    hour = _hour()
    sku = fields.String(required=True)
    potions = _count()
    gold = _count()


class BarrelOffersRowSchema(Schema):
    day = fields.String(required=True)
    hour = _hour()
    sku = fields.String(required=True)
    liquid = fields.String(required=True, metadata={"description": "red, green, blue, dark, or mixed"})
    ml_per_barrel = _count()
    offers = _count()
    min_price = _count()
    max_price = _count()
    barrels = _count()
    gold_per_ml = fields.Float(required=True, validate=NOT_NEGATIVE)


class BuyersRowSchema(Schema):
    class_ = fields.String(required=True, data_key="class")
    species = fields.String(required=True)
    level = fields.Integer(required=True, validate=validate.Range(min=1, max=20))
    sku = fields.String(required=True)
    checkouts = _count()
    potions = _count()
    gold = _count()


class ConversionRowSchema(Schema):
    day = fields.String(required=True)
    hour = _hour()
    visitors = _count()
    checkouts = _count()
    potions = _count()
    gold = _count()


class BalancesRowSchema(Schema):
    tick = fields.Integer(required=True, metadata={"description": "the game clock's tick (its row id)"})
    day = fields.String(required=True)
    hour = _hour()
    at = Timestamp(required=True, metadata={"description": "when the tick began"})
    commodity = fields.String(required=True, metadata={"description": "a shop account's commodity, e.g. ml:red"})
    balance = _count()


class ProfitRowSchema(Schema):
    day = fields.String(required=True)
    revenue = _gold()
    barrels = _gold()
    capacity = _gold()
    profit = _gold()


def _metric_reply(metric: Metric, row: type[Schema]) -> type[Schema]:
    """The reply of one metric, its name and its rows: a class such as `SalesByHourMetricSchema`, registered under
    that name (for the views' docstrings) as a class statement would be."""
    return type(
        f"{row.__name__.removesuffix('RowSchema')}MetricSchema",
        (Schema,),
        {
            "__module__": __name__,
            "metric": fields.String(required=True, validate=validate.Equal(str(metric))),
            "rows": fields.List(fields.Nested(row), required=True),
        },
    )


METRIC_REPLIES = {
    metric: _metric_reply(metric, row)
    for metric, row in (
        (Metric.SALES_BY_HOUR, SalesByHourRowSchema),
        (Metric.BARREL_OFFERS, BarrelOffersRowSchema),
        (Metric.BUYERS, BuyersRowSchema),
        (Metric.CONVERSION, ConversionRowSchema),
        (Metric.BALANCES, BalancesRowSchema),
        (Metric.PROFIT, ProfitRowSchema),
    )
}
