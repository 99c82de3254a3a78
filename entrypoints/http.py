"""What every route shares: loading a body, reading the key header, a fresh unit of work, turning replies into
responses."""

from __future__ import annotations

import functools
import json
import re
from typing import Any

from flask import Response, current_app, request
from marshmallow import Schema, ValidationError

from domain.text import storable
from entrypoints.schemas import MAX_LIST, NOT_TEXT
from service_layer.idempotency import JSON, Reply, encode
from service_layer.unit_of_work import AbstractUnitOfWork

KEY_HEADER = "Idempotency-Key"
PRINTABLE_KEY = re.compile(r"^[\x20-\x7e]{1,255}$")


class RequestInvalid(Exception):
    """A request that fails validation (its body, query string, path or key): a 422 whose `fields` map each bad
    field's path to its problems."""

    def __init__(self, message: str, fields: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.fields = fields


def _flatten(errors: Any, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested error dict -> {"0.potion_type": [...]}; errors of a whole object name the object."""
    if isinstance(errors, dict):
        out: dict[str, list[str]] = {}
        for key, value in errors.items():
            path = prefix if key == "_schema" else f"{prefix}.{key}" if prefix else str(key)
            for field, problems in _flatten(value, path).items():
                out.setdefault(field, []).extend(problems)
        return out
    messages = errors if isinstance(errors, list) else [errors]
    return {prefix or "body": [str(m) for m in messages]}


def load(schema: type[Schema], many: bool = False, optional: bool = False) -> Any:
    """The request body, parsed and validated by `schema`; `optional` bodies may be empty (then `{}`)."""
    raw = request.get_data(cache=True)
    if not raw.strip():
        if optional:
            return {}
        raise RequestInvalid("a JSON body is required", {"body": ["a JSON body is required"]})
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as err:  # UnicodeDecodeError is a ValueError
        raise RequestInvalid("the body is not valid JSON", {"body": [f"not valid JSON: {err}"]}) from None
    if many:
        if not isinstance(data, list):
            raise RequestInvalid("the body must be a JSON list", {"body": ["must be a list"]})
        if len(data) > MAX_LIST:
            raise RequestInvalid("the list is too long", {"body": [f"at most {MAX_LIST} items"]})
    return _validated(schema, data, many)


def query(schema: type[Schema]) -> Any:
    """The query string, parsed and validated (each parameter given at most once); refused as a body would be: 422
    `validation_error`, naming the parameter."""
    repeated = sorted(name for name, values in request.args.lists() if len(values) > 1)
    if repeated:
        raise RequestInvalid("invalid " + ", ".join(repeated), {n: ["give it once"] for n in repeated})
    return _validated(schema, request.args.to_dict())


def _validated(schema: type[Schema], data: Any, many: bool = False) -> Any:
    """`data` loaded by `schema`; its problems as a 422 naming each bad field."""
    try:
        return _instance(schema).load(data, many=many)
    except ValidationError as err:
        fields = _flatten(err.messages)
        raise RequestInvalid("invalid " + ", ".join(sorted(fields)), fields) from None


@functools.cache
def _instance(schema: type[Schema]) -> Schema:
    """One instance of each schema for every request: marshmallow deep-copies a schema's fields into each instance
    it makes (a sixth of a replayed request's CPU), and loading leaves the instance as it was."""
    return schema()


def required_key() -> str:
    """The `Idempotency-Key` header, which this route insists on."""
    key = optional_key()
    if key is None:
        raise RequestInvalid(f"{KEY_HEADER} is required", {KEY_HEADER: ["required on this route"]})
    return key


def path_id(name: str, value: str) -> str:
    """An order_id or visit_id from the path: 1-64 characters of [A-Za-z0-9_-]."""
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", value):
        problem = "must be 1-64 characters of A-Z a-z 0-9 _ -"
        raise RequestInvalid(f"invalid {name}", {name: [problem]})
    return value


def path_text(name: str, value: str) -> str:
    """A path parameter taken as text (a potion's sku): refused if a backend could not store it."""
    if not storable(value):
        raise RequestInvalid(f"invalid {name}", {name: [NOT_TEXT]})
    return value


def optional_key() -> str | None:
    """The `Idempotency-Key` header, if sent (1-255 printable ASCII characters)."""
    value = request.headers.get(KEY_HEADER)
    if value is None:
        return None
    if not PRINTABLE_KEY.fullmatch(value):
        raise RequestInvalid(f"invalid {KEY_HEADER}", {KEY_HEADER: ["must be 1-255 printable ASCII characters"]})
    return value


def new_uow() -> AbstractUnitOfWork:
    return current_app.extensions["cauldrons.uow_factory"]()


def as_response(reply: Reply) -> Response:
    response = Response(reply.body, status=reply.status)
    if reply.content_type:
        response.headers["Content-Type"] = reply.content_type
    else:
        del response.headers["Content-Type"]
    if reply.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def json_response(obj: Any, status: int = 200) -> Response:
    return Response(encode(obj), status=status, content_type=JSON)
