"""The yardstick for checkout throughput: a bare Flask endpoint doing one INSERT per request with psycopg2, no
ORM, no validation, no idempotency. Served by the same gunicorn settings as the shop.

    DATABASE_URL=postgresql://... gunicorn --workers 4 bench.bare_app:app   # after running SCHEMA once
"""

from __future__ import annotations

import json
import os

import psycopg2
from flask import Flask, Response, request

SCHEMA = (
    "CREATE TABLE bare_sales (id bigserial PRIMARY KEY, cart_id bigint NOT NULL, payment text NOT NULL, "
    "created_at timestamp NOT NULL DEFAULT now())"
)
app = Flask(__name__)
_connection = None


def connection():  # type: ignore[no-untyped-def]
    """One connection per worker process, opened after the fork."""
    global _connection
    if _connection is None:
        _connection = psycopg2.connect(os.environ["DATABASE_URL"].replace("postgresql+psycopg2", "postgresql"))
    return _connection


@app.get("/catalog/")
def catalog() -> Response:
    return Response("[]", content_type="application/json")


@app.post("/carts/<int:cart_id>/checkout")
def checkout(cart_id: int) -> Response:
    payment = (request.get_json(silent=True) or {}).get("payment", "")
    with connection() as conn, conn.cursor() as cursor:
        cursor.execute("INSERT INTO bare_sales (cart_id, payment) VALUES (%s, %s) RETURNING id", (cart_id, payment))
        cursor.fetchone()
    return Response(json.dumps({"total_potions_bought": 1, "total_gold_paid": 50}), content_type="application/json")
