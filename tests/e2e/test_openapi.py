"""`/openapi.json` and `/docs`: the document covers exactly what the app serves, is valid OpenAPI 3.1, says what the
code does (public routes, refusal codes, idempotency headers, field types), is built once per app and changes no
reply; its examples, walked in order against the real shop on both backends, are answered as documented."""

from __future__ import annotations

import re
from typing import Any

import pytest
import schemathesis
from apispec.yaml_utils import load_operations_from_docstring
from flask import Flask

from cauldrons.app import create_app
from cauldrons.config import Config
from domain.metrics import Metric
from entrypoints.auth import PUBLIC
from entrypoints.errors import STATUS
from entrypoints.metrics import schema_of
from entrypoints.openapi import document_of
from entrypoints.schemas import MAX_LIST
from tests.fakes import FakeUnitOfWork
from tests.helpers import API_KEY

KEY = {"access_token": API_KEY}
PUBLIC_PATHS = {"/", "/catalog/", "/openapi.json", "/docs", "/dashboard"}


@pytest.fixture
def shop() -> Flask:
    """The app over the fake unit of work: the document needs no database."""
    return create_app(Config("sqlite://", API_KEY), uow_factory=FakeUnitOfWork)


def served(app: Flask) -> set[tuple[str, str]]:
    """(OpenAPI path, method) of every route in the URL map, but static files and HEAD/OPTIONS."""
    return {
        (re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and not rule.endpoint.endswith(".static")
        for method in (rule.methods or set()) - {"HEAD", "OPTIONS"}
    }


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(path, method): op for path, item in document["paths"].items() for method, op in item.items()}


def resolve(document: dict[str, Any], obj: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in obj:
        section, name = obj["$ref"].split("/")[-2:]
        obj = document["components"][section][name]
    return obj


def test_every_route_is_documented_and_every_documented_route_is_served(shop: Flask) -> None:
    document = shop.test_client().get("/openapi.json").get_json()
    routes, documented = served(shop), set(operations(document))
    assert routes - documented == set(), "routes missing from the document (declare them in the view's docstring)"
    assert documented - routes == set(), "documented but not served"
    for endpoint, view in shop.view_functions.items():
        if endpoint != "static" and not endpoint.endswith(".static"):
            assert load_operations_from_docstring(view.__doc__ or ""), f"{endpoint}'s docstring declares no operation"


def test_the_document_is_valid_openapi_3_1_and_served_without_the_key(shop: Flask) -> None:
    response = shop.test_client().get("/openapi.json")
    assert response.status_code == 200 and response.content_type == "application/json"
    document = response.get_json()
    assert document["openapi"] == "3.1.0"
    schemathesis.openapi.from_dict(document).validate()  # against the OpenAPI 3.1 meta-schema


def test_exactly_the_public_views_are_documented_without_the_key(shop: Flask) -> None:
    document = document_of(shop).spec
    assert document["security"] == [{"access_token": []}]
    assert document["components"]["securitySchemes"]["access_token"] == {
        "type": "apiKey",
        "in": "header",
        "name": "access_token",
        "description": "the shop's API key",
    }
    adapter = shop.url_map.bind("localhost")
    for (path, method), op in operations(document).items():
        endpoint, _ = adapter.match(re.sub(r"{\w+}", "1", path), method.upper())
        is_public = getattr(shop.view_functions[endpoint], PUBLIC, False)
        assert (op.get("security") == []) is is_public, (method, path)
        assert ("401" in op["responses"]) is not is_public, (method, path)
        assert is_public is (path in PUBLIC_PATHS), (method, path)
        answer = shop.test_client().open(re.sub(r"{\w+}", "1", path), method=method.upper())
        assert (answer.status_code == 401) is not is_public, (method, path)


def test_every_refusal_code_is_documented_with_its_status(shop: Flask) -> None:
    document = document_of(shop).spec
    documented: set[tuple[int, str]] = set()
    for op in operations(document).values():
        for status, response in op["responses"].items():
            media = resolve(document, response).get("content", {}).get("application/json", {})
            for part in media.get("schema", {}).get("allOf", []):
                documented |= {
                    (int(status), code) for code in part.get("properties", {}).get("error", {}).get("enum", [])
                }
    assert set(STATUS.values()) <= documented
    assert {(401, "unauthorized"), (422, "validation_error"), (503, "database_unavailable")} <= documented
    assert (413, "request_entity_too_large") in documented
    assert (400, "validation_error") not in documented  # a bad query string is a 422, as a bad body is


def test_the_error_shape_and_the_custom_fields_are_mapped(shop: Flask) -> None:
    schemas = document_of(shop).spec["components"]["schemas"]
    assert schemas["Error"]["required"] == ["error", "message"]
    assert set(schemas["Error"]["properties"]) == {"error", "message", "fields"}
    barrel = schemas["Barrel"]
    assert barrel["additionalProperties"] is False  # the schemas refuse unknown fields, and so does the document
    assert barrel["properties"]["ml_per_barrel"]["type"] == "integer"  # WholeNumber
    assert barrel["properties"]["potion_type"]["items"]["type"] == "number"  # Fraction
    assert barrel["properties"]["sku"] == {"type": "string", "minLength": 1, "maxLength": 64}  # Text
    assert schemas["PostedTransaction"]["properties"]["created_at"] == {"type": "string", "format": "date-time"}
    assert all(s["additionalProperties"] is False for s in schemas.values())
    history = operations(document_of(shop).spec)[("/ledger/transactions", "get")]["parameters"]
    since = next(p for p in history if p["name"] == "since")
    assert since["schema"] == {"type": "string", "format": "date-time"}  # Moment, left out rather than null


def test_a_list_body_is_documented_as_at_most_as_long_as_the_shop_takes(shop: Flask) -> None:
    lists = 0
    for (path, method), op in operations(document_of(shop).spec).items():
        schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
        if schema.get("type") == "array":
            assert schema["maxItems"] == MAX_LIST, (method, path)
            lists += 1
    assert lists == 4  # the barrels planned and delivered, the potions bottled, the visits


VALID = {"since": "2026-01-01T00:00:00Z", "until": "2026-12-31T23:00:00Z", "day": "Edgeday", "hour": "2", "points": "5"}


def test_each_metric_documents_exactly_the_query_it_takes(shop: Flask) -> None:
    """The balances take `points` and no game time, the other metrics a game day and hour: each metric's document
    says what its schema reads, and the route accepts every parameter it documents."""
    paths = document_of(shop).spec["paths"]
    client = shop.test_client()
    for metric in Metric:
        parameters = paths[f"/metrics/{metric}"]["get"]["parameters"]
        assert [p["name"] for p in parameters] == list(schema_of(metric)().fields), metric
        query = {p["name"]: VALID[p["name"]] for p in parameters}
        assert client.get(f"/metrics/{metric}", query_string=query, headers=KEY).status_code == 200, (metric, query)


def test_204s_have_empty_bodies_and_503s_say_when_to_retry(shop: Flask) -> None:
    document = document_of(shop).spec
    for (path, method), op in operations(document).items():
        for status, response in op["responses"].items():
            if status == "204":
                assert "content" not in resolve(document, response), (method, path)
            if status == "503":
                assert "Retry-After" in resolve(document, response)["headers"], (method, path)


def test_the_document_is_built_once_per_app_and_changes_no_reply(shop: Flask) -> None:
    client = shop.test_client()
    before = [client.get(path, headers=KEY) for path in ("/", "/inventory/audit", "/nowhere")]
    first, again = client.get("/openapi.json"), client.get("/openapi.json")
    assert first.data == again.data
    assert document_of(shop) is document_of(shop)
    after = [client.get(path, headers=KEY) for path in ("/", "/inventory/audit", "/nowhere")]
    assert [(r.status_code, r.data, sorted(r.headers.items())) for r in before] == [
        (r.status_code, r.data, sorted(r.headers.items())) for r in after
    ]
    hooks = (shop.before_request_funcs, shop.after_request_funcs, shop.teardown_request_funcs)
    assert all("openapi" not in registry for registry in hooks)
    other = create_app(Config("sqlite://", API_KEY), uow_factory=FakeUnitOfWork)
    assert document_of(other) is not document_of(shop) and document_of(other).body == first.data


def test_the_docs_page_names_no_other_host_and_its_files_are_served_without_the_key(shop: Flask) -> None:
    client = shop.test_client()
    page = client.get("/docs")
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert "://" not in html and '"//' not in html  # no absolute or protocol-relative URL: nothing from a CDN
    files = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert {f.rsplit("/", 1)[-1] for f in files} == {"swagger-ui.css", "favicon-32x32.png", "swagger-ui-bundle.js"}
    for path in files:
        answer = client.get(path)
        assert answer.status_code == 200 and len(answer.data) > 0, path
    for other in ("nothing-here.js", "oauth2-redirect.html", "index.css", "../openapi.py"):
        assert client.get(f"/docs/assets/{other}").status_code == 404, other


def test_the_documented_examples_are_answered_as_documented_and_keyed_ones_replay(app: Flask) -> None:
    """Every operation's example request, in document order on one new shop (given gold first, so that every
    delivery can be paid for), gets its documented success. A POST whose success declares `Idempotent-Replayed`
    answers its retry with the same bytes and that header, any other POST without it; a documented
    `Idempotency-Key` header is refused when it is required and left out, and may be left out when it is optional."""
    client = app.test_client()
    document = document_of(app).spec
    grant = {"account": "shop/gold", "change": 5000, "reason": "pay for every example"}
    granted = client.post("/ledger/corrections", json=grant, headers={**KEY, "Idempotency-Key": "grant"})
    assert granted.status_code == 200
    for (path, method), op in operations(document).items():
        headers, key_required = dict(KEY), None
        for parameter in (resolve(document, p) for p in op.get("parameters", [])):
            if parameter["in"] == "path":
                path = path.replace("{" + parameter["name"] + "}", str(parameter["example"]))
            elif parameter["in"] == "header":
                assert parameter["name"] == "Idempotency-Key"
                headers[parameter["name"]], key_required = f"example-{op['operationId']}", parameter["required"]
        body = op.get("requestBody", {}).get("content", {}).get("application/json", {})
        send: dict[str, Any] = {"json": body["example"]} if "example" in body else {}
        success = next(s for s in op["responses"] if s.startswith("2"))
        first = client.open(path, method=method.upper(), headers=headers, **send)
        assert str(first.status_code) == success, (method, path, first.data)
        assert "Idempotent-Replayed" not in first.headers
        if method != "post":
            continue
        again = client.open(path, method="POST", headers=headers, **send)
        replays = "Idempotent-Replayed" in op["responses"][success].get("headers", {})
        assert (again.status_code, again.data) == (first.status_code, first.data), (method, path)
        assert again.headers.get("Idempotent-Replayed") == ("true" if replays else None), (method, path)
        if key_required is not None:
            keyless = client.open(path, method="POST", headers=KEY, **send)
            if key_required:
                assert keyless.status_code == 422 and "Idempotency-Key" in keyless.get_json()["fields"], path
            else:
                assert str(keyless.status_code) == success, (path, keyless.data)
