"""Schemathesis against the real app on SQLite and PostgreSQL, driven by the document the app serves.

Every operation of `/openapi.json` (but the document itself, which schemathesis leaves out) gets generated requests
with the key: its examples, the coverage phase's boundary and invalid values (and requests without the key or with
other methods), and `MAX_EXAMPLES` random valid and invalid ones. Every answer must be no 5xx, a documented status,
of the documented content type, with a body that matches the documented schema; and a request the document calls
invalid must be refused with a 4xx. A stateful run then follows the document's links: open a cart, set items in it,
check it out. A failure found here is a bug in the app or in the document; one in the app becomes a regression test
(xfail, strict) until it is fixed.

The requests go to the app in-process (WSGI), each backend on a fresh database kept for the whole run, so that
later operations see what earlier ones did.
"""

from __future__ import annotations

from typing import Any

import hypothesis
import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck
from schemathesis.specs.openapi.schemas import OpenApiSchema

from tests.helpers import API_KEY

CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
)
MAX_EXAMPLES = 10  # random cases per operation and backend, after the examples and the coverage phase
CONFIG = schemathesis.Config.from_dict(
    {
        "seed": 11,
        "generation": {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True},
        "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
        "auth": {"openapi": {"access_token": {"api_key": API_KEY}}},
    }
)
SETTINGS = hypothesis.settings(deadline=None, suppress_health_check=list(HealthCheck), derandomize=True)


def load(app: Flask) -> OpenApiSchema:
    return schemathesis.openapi.from_wsgi("/openapi.json", app, config=CONFIG)


@pytest.fixture
def contract(app: Flask, request: pytest.FixtureRequest) -> OpenApiSchema:
    """The document the app serves, over the app itself, on a fresh database of each backend."""
    # schemathesis 4.32's `from_fixture` labels each operation's subtest through `Node._nodeid`, which pytest 9.2
    # no longer has (it keeps `_id`): give the node the attribute. It changes nothing but those labels.
    request.node._nodeid = request.node.nodeid
    return load(app)


schema = schemathesis.pytest.from_fixture("contract")


@schema.parametrize()
@SETTINGS
def test_every_operation_keeps_the_contract(case: schemathesis.Case) -> None:
    case.call_and_validate()


def test_carts_are_opened_filled_and_checked_out_along_the_links(app: Flask) -> None:
    answered: list[tuple[str, int]] = []
    carts = load(app).include(operation_id=["createCart", "setCartItem", "checkout"]).as_state_machine()

    class Customers(carts):  # type: ignore[valid-type, misc]
        def get_call_kwargs(self, case: schemathesis.Case) -> dict[str, Any]:
            return {"headers": {"access_token": API_KEY}}

        def after_call(self, response: Any, case: schemathesis.Case) -> None:
            super().after_call(response, case)
            answered.append((case.operation.label, response.status_code))

    Customers.run(settings=hypothesis.settings(SETTINGS, max_examples=20, stateful_step_count=6))
    assert ("POST /carts/", 200) in answered
    assert ("POST /carts/{cart_id}/checkout", 200) in answered  # a cart the run opened, through the link
