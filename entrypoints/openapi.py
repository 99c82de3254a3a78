"""`GET /openapi.json` and `GET /docs`: the shop's contract as an OpenAPI 3.1 document, and a page to try it on.

The document is generated from the code. Each view declares its own operation in its docstring, as apispec's Flask
plugin reads it: the first line is the summary, the paragraphs up to `---` the description, and the YAML after
`---` the rest (its tags and operationId, the body and query string it reads, its success and refusals), naming the
marshmallow schemas the route validates with (`entrypoints/schemas.py`) or answers in
(`entrypoints/openapi_schemas.py`), which apispec's marshmallow plugin turns into JSON Schema. What every route
shares is added here, from the code that does it: the path's parameters, `401` unless the view is `@public`, the
`400`, `413` and `422` of a body (`http.load`) or the `422` of a query string (`http.query`), and `not_found` for a
path no route serves. A refusal declared as a list of error codes (`409: [cart_closed]`) is spelt out in the shared
Error shape. The document is built once per app, on its first request, and is only read: no other reply changes by
a byte.

`/docs` is Swagger UI, from the files the flask-swagger-ui package ships (served here under `/docs/assets/`, so
the page works offline and names no CDN): the user authorizes with the shop's key and tries any route.
"""

from __future__ import annotations

import inspect
import re
import threading
from dataclasses import dataclass
from importlib import metadata, resources
from typing import Any

from apispec import APISpec, BasePlugin
from apispec.ext.marshmallow import MarshmallowPlugin
from apispec.ext.marshmallow.field_converter import DEFAULT_FIELD_MAPPING
from apispec.ext.marshmallow.openapi import OpenAPIConverter
from apispec_webframeworks.flask import FlaskPlugin
from flask import Blueprint, Flask, Response, abort, current_app, render_template_string

from entrypoints import openapi_schemas as replies
from entrypoints.auth import PUBLIC, public
from entrypoints.carts import MAX_CART_ID
from entrypoints.http import KEY_HEADER, PRINTABLE_KEY
from entrypoints.schemas import Fraction, Text, Timestamp, WholeNumber
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
    "item_sku": {
        "description": "the potion's sku",
        "schema": {"type": "string", "minLength": 1},
        "example": "RED_POTION",
    },
}
NO_ROUTE = "not_found"  # the code of a 404 for a path no route serves
REFUSALS = {404: "nothing by that name", 409: "the shop cannot honour it; nothing changed"}  # declared by their codes


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
            "the database is unavailable, or (a write) no write slot of the worker came free within 5 s; nothing"
            " was changed: retry the same request",
            ["database_unavailable", "shop_busy"],
            headers={"Retry-After": "Retry-After"},
        ),
    )


def _prose(docstring: str) -> tuple[str, str]:
    """A view docstring's summary (its first line, without a closing period) and description (its paragraphs up to
    `---`, each on one line)."""
    text = inspect.cleandoc(docstring).split("\n---", 1)[0]
    first, _, rest = text.partition("\n")
    paragraphs = [" ".join(paragraph.split()) for paragraph in rest.split("\n\n") if paragraph.strip()]
    return first.strip().removesuffix("."), "\n\n".join(paragraphs)


def _complete(operation: dict[str, Any], docstring: str, arguments: list[str], public: bool) -> dict[str, Any]:
    """A view's operation, as its docstring declares it, with what every route shares added."""
    summary, description = _prose(docstring)
    operation = {"summary": summary, **({"description": description} if description else {}), **operation}
    declared = operation.get("parameters", [])
    path = [{"name": name, "in": "path", "required": True, **PATH_PARAMETERS[name]} for name in arguments]
    if path:
        operation["parameters"] = path + declared
    responses: dict[int | str, Any] = dict(operation["responses"])
    if arguments:  # a path parameter that is empty or holds a `/` leaves a path no route serves
        responses[404] = [*responses.get(404, []), NO_ROUTE]
    for status, codes in responses.items():
        if isinstance(codes, list):
            responses[status] = _error(REFUSALS[int(status)], codes)
    success = next(response for status, response in responses.items() if 200 <= int(status) < 300)
    keyed = REPLAYED_HEADER in success.get("headers", {})  # a key's retry may be replayed, or refused as reused
    if "requestBody" in operation:  # read by `http.load`
        responses[400] = "BodyUnreadable"
        responses[413] = "TooLarge"
        responses[422] = _error(
            "the body, a path parameter or the key is not valid, or the key was used on this route with another "
            "payload",
            ["validation_error"] + (["idempotency_key_reused"] if keyed else []),
        )
    elif any(isinstance(parameter, dict) and parameter.get("in") == "query" for parameter in declared):  # `http.query`
        responses[422] = _error("a query parameter is not valid (or given twice)", ["validation_error"])
    if public:  # marked by @public, as auth reads it
        operation["security"] = []
    else:
        responses[401] = "Unauthorized"
    operation["responses"] = dict(sorted(responses.items(), key=lambda item: int(item[0])))
    return operation


class _Contract(BasePlugin):
    """Reads each view's docstring (apispec's Flask plugin has loaded its YAML) and completes its operations."""

    def operation_helper(
        self, path: str | None = None, operations: dict[str, Any] | None = None, **kwargs: Any
    ) -> None:
        assert path is not None and operations is not None
        view = kwargs["view"]
        arguments = re.findall(r"{(\w+)}", path)
        for method, operation in operations.items():
            operations[method] = _complete(operation, view.__doc__ or "", arguments, getattr(view, PUBLIC, False))


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
    """The OpenAPI document of `app`: every route it serves (but static files), as its view declares it."""
    marshmallow = _Marshmallow()
    spec = APISpec(
        title="Central Coast Cauldrons",
        version=metadata.version("cauldrons"),
        openapi_version=OPENAPI_VERSION,
        plugins=[FlaskPlugin(), _Contract(), marshmallow],  # in this order: the YAML, completed, resolved
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
    for rule in app.url_map.iter_rules():
        if rule.endpoint != "static" and not rule.endpoint.endswith(".static"):  # files, not routes
            spec.path(view=app.view_functions[rule.endpoint], app=app)
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
    """This document.
    ---
    get:
      operationId: openapi
      tags: [docs]
      responses:
        200:
          description: the OpenAPI document
          content:
            application/json:
              schema: {type: object}
    """
    return Response(document_of(current_app).body, content_type=JSON)


@bp.get("/docs")
@public
def docs() -> Response:
    """The interactive docs page.
    ---
    get:
      operationId: docs
      tags: [docs]
      responses:
        200:
          description: an HTML page (Swagger UI, served by the shop)
          content:
            text/html:
              schema: {type: string}
    """
    return Response(render_template_string(PAGE), content_type="text/html; charset=utf-8")
