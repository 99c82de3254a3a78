"""`GET /openapi.json` and `GET /docs`: the shop's contract as an OpenAPI 3.1 document, and a page to try it on.

The document is generated from the code. apispec's Flask plugin finds each view's path in the app's URL map, and
its marshmallow plugin turns the schemas the routes validate with (`entrypoints/schemas.py`) and the shapes of the
replies (`entrypoints/openapi_schemas.py`) into JSON Schema. `OPERATIONS` below says, per endpoint, what the code
does not: the body and query it reads, where its idempotency key comes from, and every status it can answer. The
document is built once per app, on its first request, and is only read: no other reply changes by a byte.

`/docs` is Swagger UI, from the files the flask-swagger-ui package ships (served here under `/docs/assets/`, so
the page works offline and names no CDN): the user authorizes with the shop's key and tries any route.
"""

from __future__ import annotations

import enum
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import metadata, resources
from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, Response, abort, current_app, render_template_string
from marshmallow import Schema

from domain.metrics import TITLES, Metric
from entrypoints import openapi_schemas as replies
from entrypoints.auth import PUBLIC, public
from entrypoints.carts import MAX_CART_ID
from entrypoints.http import KEY_HEADER, PRINTABLE_KEY
from entrypoints.schemas import (
    MAX_LIST,
    AsOfSchema,
    AuditQuerySchema,
    BalancesSchema,
    BarrelSchema,
    CapacitySchema,
    CartItemSchema,
    CheckoutSchema,
    CorrectionSchema,
    CustomerSchema,
    EmptySchema,
    Fraction,
    GameTimeSchema,
    HistorySchema,
    MetricsSchema,
    PotionMixSchema,
    SearchSchema,
    Text,
    Timestamp,
    WholeNumber,
)
from service_layer.idempotency import JSON, encode

OPENAPI_VERSION = "3.1.0"
SECURITY_SCHEME = "access_token"
REPLAYED_HEADER = "Idempotent-Replayed"
EXTENSION = "cauldrons.openapi"
UI_FILES = str(resources.files("flask_swagger_ui") / "dist")  # Swagger UI's dist, as flask-swagger-ui ships it
UI_PAGE_FILES = frozenset({"swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"})  # what the page loads


class _DocsBlueprint(Blueprint):
    @public
    def send_static_file(self, filename: str) -> Response:
        """The files the docs page loads are public, like the page: a browser sends no key for them. The rest of the
        dist (its own index page, the OAuth redirect page) is not served."""
        if filename not in UI_PAGE_FILES:
            abort(404)
        return super().send_static_file(filename)


bp = _DocsBlueprint("openapi", __name__, static_folder=UI_FILES, static_url_path="/docs/assets")


class KeySource(enum.Enum):
    """Where a POST's idempotency key comes from."""

    NONE = "none"  # none: the route changes nothing
    PATH = "path"  # the path's order_id, visit_id or cart_id
    OPTIONAL = "optional"  # an Idempotency-Key header, if the client sends one
    REQUIRED = "required"  # an Idempotency-Key header, always


@dataclass(frozen=True)
class Operation:
    """What a client must know about one endpoint beyond its path and method (which come from the URL map)."""

    operation_id: str
    tag: str
    summary: str
    reply: tuple[int, str, Any]  # the success: status, description, the schema of its body (None: no body)
    media_type: str = JSON  # of the success's body
    description: str = ""
    body: Any = None  # a Schema class, or {"type": "array", "items": SchemaClass, ...}
    body_optional: bool = False  # the body may be empty (then it counts as `{}`)
    example: Any = None  # a body the shop accepts (the docs page fills it in)
    query: type[Schema] | None = None
    key: KeySource = KeySource.NONE
    not_found: tuple[str, ...] = ()  # the error codes of its 404s
    conflicts: tuple[str, ...] = ()  # the error codes of its 409s
    database: bool = True  # it reads or writes the database, so it may answer 503
    links: Mapping[str, Any] = field(default_factory=dict)


def _list_of(schema: type[Schema]) -> dict[str, Any]:
    """A list body: at most MAX_LIST items."""
    return {"type": "array", "items": schema, "maxItems": MAX_LIST}


def _array(schema: type[Schema]) -> dict[str, Any]:
    return {"type": "array", "items": schema}


CUSTOMER = {
    "customer_id": "c-1",
    "customer_name": "Scaramouche",
    "character_class": "Wizard",
    "character_species": "Elf",
    "level": 7,
}
BARREL = {"sku": "SMALL_RED_BARREL", "ml_per_barrel": 500, "potion_type": [1, 0, 0, 0], "price": 100, "quantity": 1}
CART_LINKS = {
    "SetItem": {
        "operationId": "setCartItem",
        "parameters": {"cart_id": "$response.body#/cart_id"},
        "description": "put potions in the new cart",
    },
    "Checkout": {
        "operationId": "checkout",
        "parameters": {"cart_id": "$response.body#/cart_id"},
        "description": "check the new cart out",
    },
}
NO_CONTENT = "done; the body is empty"

OPERATIONS: dict[str, Operation] = {
    "shop.root": Operation("root", "shop", "Is the shop open?", (200, "it is", replies.MessageSchema), database=False),
    "shop.catalog": Operation(
        "catalog",
        "shop",
        "What the shop sells",
        (200, "at most six potions in stock, the most plentiful first", _array(replies.CatalogItemSchema)),
    ),
    "barrels.plan": Operation(
        "planBarrels",
        "barrels",
        "Which barrels to buy from a wholesale catalog (changes nothing)",
        (
            200,
            "skus from the offer, within gold, free ml and the quantities offered",
            _array(replies.BarrelOrderSchema),
        ),
        body=_list_of(BarrelSchema),
        example=[BARREL],
    ),
    "barrels.deliver": Operation(
        "deliverBarrels",
        "barrels",
        "Barrels delivered: pay for them, store their ml",
        (204, NO_CONTENT, None),
        body=_list_of(BarrelSchema),
        example=[BARREL],
        key=KeySource.PATH,
        conflicts=("insufficient_gold", "insufficient_capacity"),
    ),
    "bottler.plan": Operation(
        "planBottling",
        "bottler",
        "What to bottle from the ml on hand (changes nothing)",
        (200, "mixes within the ml on hand and the free potion capacity", _array(PotionMixSchema)),
        body=EmptySchema,
        body_optional=True,
    ),
    "bottler.deliver": Operation(
        "deliverBottles",
        "bottler",
        "Potions bottled: ml out, potions in",
        (204, NO_CONTENT, None),
        body=_list_of(PotionMixSchema),
        example=[{"potion_type": [100, 0, 0, 0], "quantity": 5}],
        key=KeySource.PATH,
        not_found=("unknown_potion_type",),
        conflicts=("insufficient_ml", "insufficient_capacity"),
    ),
    "carts.visits": Operation(
        "recordVisit",
        "carts",
        "Who visited the shop",
        (204, NO_CONTENT, None),
        body=_list_of(CustomerSchema),
        example=[CUSTOMER],
        key=KeySource.PATH,
    ),
    "carts.create": Operation(
        "createCart",
        "carts",
        "Open a cart for a customer",
        (200, "the new cart", replies.NewCartSchema),
        body=CustomerSchema,
        example=CUSTOMER,
        key=KeySource.OPTIONAL,
        links=CART_LINKS,
    ),
    "carts.set_item": Operation(
        "setCartItem",
        "carts",
        "Set (not add) how many of a potion the cart holds",
        (204, NO_CONTENT, None),
        body=CartItemSchema,
        example={"quantity": 2},
        key=KeySource.OPTIONAL,
        not_found=("cart_not_found", "unknown_sku"),
        conflicts=("cart_closed",),
    ),
    "carts.checkout": Operation(
        "checkout",
        "carts",
        "Check a cart out: all of it or nothing",
        (200, "what was sold, at the catalog price", replies.CheckoutReplySchema),
        body=CheckoutSchema,
        example={"payment": "gold coins"},
        key=KeySource.PATH,
        not_found=("cart_not_found",),
        conflicts=("insufficient_stock", "cart_closed"),
    ),
    "carts.search": Operation(
        "searchOrders",
        "carts",
        "Search the lines sold (the exchange's order search)",
        (200, "a page of at most five lines, with tokens to the pages either side", replies.SearchPageSchema),
        description="Filters are case-insensitive *contains*; pages are walked by sending `next` or `previous` "
        "back as `search_page`. Other parameters are ignored.",
        query=SearchSchema,
    ),
    "inventory.audit": Operation(
        "audit",
        "inventory",
        "The shop's totals, now or at a past moment",
        (200, "every figure a sum over the ledger", replies.AuditSchema),
        description="Parameters other than `at` are ignored.",
        query=AuditQuerySchema,
    ),
    "inventory.plan": Operation(
        "planCapacity",
        "inventory",
        "Which capacity to buy (changes nothing)",
        (200, "units of each kind to buy", CapacitySchema),
        body=EmptySchema,
        body_optional=True,
    ),
    "inventory.deliver": Operation(
        "deliverCapacity",
        "inventory",
        "Capacity delivered: 1000 gold a unit",
        (204, NO_CONTENT, None),
        body=CapacitySchema,
        example={"potion_capacity": 1, "ml_capacity": 0},
        key=KeySource.PATH,
        conflicts=("insufficient_gold",),
    ),
    "admin.reset": Operation(
        "reset",
        "admin",
        "Reset the shop to its start; history is kept",
        (204, NO_CONTENT, None),
        body=EmptySchema,
        body_optional=True,
        key=KeySource.OPTIONAL,
    ),
    "admin.current_time": Operation(
        "setTime",
        "admin",
        "Set the game's day and hour, stamped on later transactions",
        (204, NO_CONTENT, None),
        body=GameTimeSchema,
        example={"day": "Edgeday", "hour": 2},
        key=KeySource.OPTIONAL,
    ),
    "ledger.accounts": Operation(
        "accounts",
        "ledger",
        "Every account's balance, now or at a past moment",
        (200, "every account, counter-accounts included", replies.AccountsSchema),
        query=AsOfSchema,
    ),
    "ledger.transactions": Operation(
        "transactions",
        "ledger",
        "The ledger's history, newest first",
        (200, "a page of transactions", replies.TransactionsPageSchema),
        query=HistorySchema,
    ),
    "ledger.corrections": Operation(
        "correct",
        "ledger",
        "Correct a balance with a new transaction against adjustments/<commodity>",
        (200, "the correction as booked", replies.CorrectionReplySchema),
        body=CorrectionSchema,
        example={"account": "shop/gold", "change": 50, "reason": "found in the till"},
        key=KeySource.REQUIRED,
        not_found=("unknown_account",),
        conflicts=("insufficient_gold", "insufficient_ml", "insufficient_stock", "insufficient_capacity"),
    ),
    **{
        f"metrics.{metric}": Operation(
            f"metric_{metric}",
            "metrics",
            TITLES[metric],
            (200, "the metric's rows", replies.metric_reply(str(metric), row)),
            description=description,
            query=BalancesSchema if metric is Metric.BALANCES else MetricsSchema,
        )
        for metric, row, description in (
            (
                Metric.SALES_BY_HOUR,
                replies.SalesByHourRowSchema,
                "Potions sold and gold taken per game day, hour and potion (lines sold before the game's first "
                "tick have no game time and are left out).",
            ),
            (
                Metric.BARREL_OFFERS,
                replies.BarrelOffersRowSchema,
                "Every barrel type the exchange offered to `/barrels/plan`, per game day and hour: its liquid, "
                "size, how often, price range, barrels on offer and gold per ml.",
            ),
            (
                Metric.BUYERS,
                replies.BuyersRowSchema,
                "Potions bought, gold paid and the checkouts that bought them, per class, species, level and potion.",
            ),
            (
                Metric.CONVERSION,
                replies.ConversionRowSchema,
                "Customers who visited against carts checked out, per game day and hour.",
            ),
            (
                Metric.BALANCES,
                replies.BalancesRowSchema,
                "Each shop account's balance at the end of a game tick, for at most `points` ticks in "
                "[since, until] evenly spread, and the last.",
            ),
            (
                Metric.PROFIT,
                replies.ProfitRowSchema,
                "Per game day: gold from sales, spent on barrels and on capacity, and revenue minus both.",
            ),
        )
    },
    "dashboard.page": Operation(
        "dashboard",
        "metrics",
        "The metrics as a live page (it asks for the key)",
        (200, "an HTML page (its charts are fetched with the key)", {"type": "string"}),
        media_type="text/html",
        database=False,
    ),
    "dashboard.chart": Operation(
        "dashboardChart",
        "metrics",
        "One metric drawn as an SVG chart",
        (200, "an SVG image; each mark standing for data has an id `mark-...` or `series-...`", {"type": "string"}),
        media_type="image/svg+xml",
        description="Takes the same query parameters as the metric's JSON route.",
        query=MetricsSchema,
    ),
    "openapi.document": Operation(
        "openapi",
        "docs",
        "This document",
        (200, "the OpenAPI document", {"type": "object"}),
        database=False,
    ),
    "openapi.docs": Operation(
        "docs",
        "docs",
        "The interactive docs page",
        (200, "an HTML page (Swagger UI, served by the shop)", {"type": "string"}),
        media_type="text/html",
        database=False,
    ),
}

TAGS = [
    {"name": "shop", "description": "the two routes anyone may call"},
    {"name": "barrels", "description": "buying ml from the exchange's wholesale catalog"},
    {"name": "bottler", "description": "turning ml into potions"},
    {"name": "carts", "description": "customers, their carts, and the order search"},
    {"name": "inventory", "description": "the audit and capacity"},
    {"name": "admin", "description": "reset and the game clock"},
    {"name": "ledger", "description": "balances, history and corrections (extensions to the course's contract)"},
    {"name": "metrics", "description": "the course's V4 metrics, as JSON and as a live dashboard (extensions)"},
    {"name": "docs", "description": "this document and its page"},
]
DESCRIPTION = f"""The potion exchange's contract (`API.md`) as Central Coast Cauldrons serves it, with its extensions.

* **Auth**: every route but `/`, `/catalog/`, `/openapi.json`, `/docs` and `/dashboard` (with the files those
  pages load) needs
  the shop's API key in the `access_token` header (**Authorize** on the docs page); without it the answer is `401`,
  unknown routes included.
* **Idempotency**: every POST is safe to retry. Its key is the path's `order_id`, `visit_id` or `cart_id`, or an
  `{KEY_HEADER}` header (1-255 printable ASCII characters). A retry with the same key and payload gets the first
  reply byte for byte, with `{REPLAYED_HEADER}: true`; the same key with another payload is
  `422 idempotency_key_reused`. Refusals are not stored: a corrected retry may succeed.
* **Errors** are JSON, `{{"error", "message"}}`, plus `fields` (each bad field's problems) for
  `422 validation_error`.
* **Below the routes**, any request may also be answered `400 bad_request` (a body cut short or with broken chunk
  framing), `408 request_timeout`, `413 request_entity_too_large` (bodies are at most 1 MiB),
  `414 request_uri_too_long` or `431 request_header_fields_too_large` by the server, in the same JSON shape."""

ID_SCHEMA = {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"}
PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "order_id": {
        "description": "the order's id, and the request's idempotency key on this route",
        "schema": ID_SCHEMA,
        "example": "7",
    },
    "visit_id": {
        "description": "the visit's id, and the request's idempotency key on this route",
        "schema": ID_SCHEMA,
        "example": "v-1",
    },
    "cart_id": {
        "description": "the cart's id (on checkout, the request's idempotency key); anything that is not a whole "
        "number is a cart that does not exist",
        "schema": {"type": "integer", "minimum": 1, "maximum": MAX_CART_ID},
        "example": 1,
    },
    "name": {
        "description": "the metric to draw",
        "schema": {"type": "string", "enum": [str(m) for m in Metric]},
        "example": "sales_by_hour",
    },
    "item_sku": {
        "description": "the potion's sku",
        "schema": {"type": "string", "minLength": 1},
        "example": "RED_POTION",
    },
}
NO_ROUTE = "not_found"  # a path parameter that is empty or holds a `/` leaves a path no route serves


class _Converter(OpenAPIConverter):
    field_mapping = dict(DEFAULT_FIELD_MAPPING)  # its own table: the mappings below change no other spec


class _Marshmallow(MarshmallowPlugin):
    Converter = _Converter


def _error(description: str, codes: tuple[str, ...] | list[str], **extra: Any) -> dict[str, Any]:
    """A response in the shared Error shape whose `error` is one of `codes`."""
    schema = {"allOf": [{"$ref": "#/components/schemas/Error"}, {"properties": {"error": {"enum": list(codes)}}}]}
    return {"description": description, "content": {JSON: {"schema": schema}}, **extra}


def _components(spec: APISpec) -> None:
    spec.components.security_scheme(
        SECURITY_SCHEME,
        {"type": "apiKey", "in": "header", "name": "access_token", "description": "the shop's API key"},
    )
    spec.components.schema("Error", schema=replies.ErrorSchema)
    key = {"schema": {"type": "string", "pattern": PRINTABLE_KEY.pattern}, "example": "3f2c9a0e-key-1"}
    spec.components.parameter(
        "IdempotencyKey",
        "header",
        {"name": KEY_HEADER, "required": False, "description": "optional: makes a retry safe", **key},
    )
    spec.components.parameter(
        "IdempotencyKeyRequired",
        "header",
        {"name": KEY_HEADER, "required": True, "description": "required on this route", **key},
    )
    spec.components.header(
        REPLAYED_HEADER,
        {
            "description": "`true` when this is the stored reply to an earlier request with the same key",
            "schema": {"type": "string", "enum": ["true"]},
        },
    )
    spec.components.header(
        "Retry-After", {"description": "seconds to wait before retrying", "schema": {"type": "string"}}
    )
    spec.components.response(
        "Unauthorized", _error("no key, or not the shop's key, in the access_token header", ["unauthorized"])
    )
    spec.components.response(
        "BodyUnreadable", _error("the body was cut short or its chunk framing is broken", ["bad_request"])
    )
    spec.components.response("TooLarge", _error("the body is over 1 MiB", ["request_entity_too_large"]))
    spec.components.response(
        "Unavailable",
        _error(
            "the database is unavailable; nothing was changed: retry the same request",
            ["database_unavailable"],
            headers={"Retry-After": "Retry-After"},
        ),
    )


def _arguments(rule: str) -> list[str]:
    """The names of a URL rule's variables, in the order they appear in it."""
    return re.findall(r"<(?:[^:<>]+:)?([^<>]+)>", rule)


def _operation(op: Operation, arguments: list[str], public: bool) -> dict[str, Any]:
    """The OpenAPI operation of `op`, served at a rule with these `arguments`, without the key if `public`."""
    status, description, schema = op.reply
    success: dict[str, Any] = {"description": description}
    if schema is not None:
        success["content"] = {op.media_type: {"schema": schema}}
    if op.key is not KeySource.NONE:
        success["headers"] = {REPLAYED_HEADER: REPLAYED_HEADER}
    if op.links:
        success["links"] = dict(op.links)
    responses: dict[int | str, Any] = {status: success}
    parameters: list[Any] = [
        {"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]} for name in arguments
    ]
    if op.query is not None:
        parameters.append({"in": "query", "schema": op.query})
    if op.key is KeySource.OPTIONAL:
        parameters.append("IdempotencyKey")
    elif op.key is KeySource.REQUIRED:
        parameters.append("IdempotencyKeyRequired")
    operation: dict[str, Any] = {
        "operationId": op.operation_id,
        "tags": [op.tag],
        "summary": op.summary,
        "responses": responses,
    }
    if op.description:
        operation["description"] = op.description
    if parameters:
        operation["parameters"] = parameters
    invalid = ["validation_error"] + (["idempotency_key_reused"] if op.key is not KeySource.NONE else [])
    if op.body is not None:
        content: dict[str, Any] = {"schema": op.body}
        if op.example is not None:
            content["example"] = op.example
        operation["requestBody"] = {"required": not op.body_optional, "content": {JSON: content}}
        responses[400] = "BodyUnreadable"
        responses[413] = "TooLarge"
        responses[422] = _error(
            "the body, a path parameter or the key is not valid, or the key was used on "
            "this route with another payload",
            invalid,
        )
    elif op.query is not None:
        responses[422] = _error("a query parameter is not valid (or given twice)", ["validation_error"])
    if public:
        operation["security"] = []
    else:
        responses[401] = "Unauthorized"
    not_found = op.not_found + ((NO_ROUTE,) if arguments else ())
    if not_found:
        responses[404] = _error("nothing by that name", not_found)
    if op.conflicts:
        responses[409] = _error("the shop cannot honour it; nothing changed", op.conflicts)
    if op.database:
        responses[503] = "Unavailable"
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: int(item[0])))
    return operation


def _no_null_queries(document: dict[str, Any]) -> None:
    """A query parameter whose absence means "none" (marshmallow's `load_default=None`) is left out, never sent as
    null: the document says it is a string (or an integer), with no null and no null default."""
    for path in document["paths"].values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") != "query":
                    continue
                if isinstance(schema.get("type"), list):
                    types = [t for t in schema["type"] if t != "null"]
                    schema["type"] = types[0] if len(types) == 1 else types
                if "default" in schema and schema["default"] is None:
                    del schema["default"]


def build(app: Flask) -> dict[str, Any]:
    """The OpenAPI document of `app`: every endpoint of OPERATIONS that the app serves, at its URL rule's path."""
    marshmallow = _Marshmallow()
    spec = APISpec(
        title="Central Coast Cauldrons",
        version=metadata.version("cauldrons"),
        openapi_version=OPENAPI_VERSION,
        plugins=[FlaskPlugin(), marshmallow],
        info={"description": DESCRIPTION},
        security=[{SECURITY_SCHEME: []}],
        tags=TAGS,
    )
    for custom, openapi_type in (
        (WholeNumber, ("integer", None)),
        (Fraction, ("number", None)),
        (Text, ("string", None)),
        (Timestamp, ("string", "date-time")),
    ):
        marshmallow.map_to_openapi_type(custom, *openapi_type)
    _components(spec)
    for endpoint, op in OPERATIONS.items():
        if endpoint not in app.view_functions:
            continue  # the URL map is the truth; tests/e2e/test_openapi.py holds OPERATIONS to it
        view = app.view_functions[endpoint]
        public = getattr(view, PUBLIC, False)  # marked by @public, as auth reads it
        for rule in app.url_map.iter_rules(endpoint):
            methods = sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
            spec.path(
                view=view,
                app=app,
                operations={method.lower(): _operation(op, _arguments(rule.rule), public) for method in methods},
            )
    document = spec.to_dict()
    _no_null_queries(document)
    return {"openapi": document.pop("openapi"), **document}


@dataclass(frozen=True)
class Document:
    spec: dict[str, Any]
    body: bytes


_building = threading.Lock()


def document_of(app: Flask) -> Document:
    """The app's document, built on first use and kept for the app's life."""
    with _building:
        if EXTENSION not in app.extensions:
            spec = build(app)
            app.extensions[EXTENSION] = Document(spec, encode(spec))
        return app.extensions[EXTENSION]  # type: ignore[no-any-return]


PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Central Coast Cauldrons: API</title>
<link rel="stylesheet" href="{{ url_for('openapi.static', filename='swagger-ui.css') }}">
<link rel="icon" type="image/png" href="{{ url_for('openapi.static', filename='favicon-32x32.png') }}">
</head>
<body>
<div id="swagger-ui"></div>
<script src="{{ url_for('openapi.static', filename='swagger-ui-bundle.js') }}"></script>
<script>
window.ui = SwaggerUIBundle({
  url: {{ url_for('openapi.document') | tojson }},
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
  deepLinking: true,
  validatorUrl: null,
  displayRequestDuration: true
});
</script>
</body>
</html>
"""


@bp.get("/openapi.json")
@public
def document() -> Response:
    return Response(document_of(current_app).body, content_type=JSON)


@bp.get("/docs")
@public
def docs() -> Response:
    return Response(render_template_string(PAGE), content_type="text/html; charset=utf-8")
