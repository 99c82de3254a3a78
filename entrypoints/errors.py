"""The one place that knows status codes: every refusal becomes a JSON error, never HTML, never a 500."""

from __future__ import annotations

import logging
import re

from flask import Flask, Response
from werkzeug.exceptions import HTTPException

from domain import errors as shop
from entrypoints.http import RequestInvalid, json_response
from service_layer.unit_of_work import DatabaseUnavailable, ShopBusy

log = logging.getLogger(__name__)

STATUS: dict[type[shop.ShopError], tuple[int, str]] = {
    shop.InsufficientGold: (409, "insufficient_gold"),
    shop.InsufficientMl: (409, "insufficient_ml"),
    shop.InsufficientStock: (409, "insufficient_stock"),
    shop.InsufficientCapacity: (409, "insufficient_capacity"),
    shop.CartClosed: (409, "cart_closed"),
    shop.CartNotFound: (404, "cart_not_found"),
    shop.UnknownSku: (404, "unknown_sku"),
    shop.UnknownPotionType: (404, "unknown_potion_type"),
    shop.UnknownAccount: (404, "unknown_account"),
    shop.IdempotencyKeyReused: (422, "idempotency_key_reused"),
}


def error(status: int, code: str, message: str, fields: dict[str, list[str]] | None = None) -> Response:
    body: dict[str, object] = {"error": code, "message": message}
    if fields is not None:
        body["fields"] = fields
    return json_response(body, status)


def unauthorized() -> Response:
    return error(401, "unauthorized", "send the shop's API key in the access_token header")


def retry_later(code: str, why: str) -> Response:
    """503 with Retry-After: nothing was done, and the same request may come again."""
    response = error(503, code, f"{why}; retry the same request (with its key, it takes effect at most once)")
    response.headers["Retry-After"] = "1"
    return response


def register(app: Flask) -> None:
    @app.errorhandler(shop.ShopError)
    def refused(err: shop.ShopError) -> Response:
        status, code = STATUS[type(err)]
        return error(status, code, str(err))

    @app.errorhandler(RequestInvalid)
    def invalid(err: RequestInvalid) -> Response:
        return error(422, "validation_error", str(err), err.fields)

    @app.errorhandler(DatabaseUnavailable)
    def unavailable(err: DatabaseUnavailable) -> Response:
        log.warning("database unavailable, answered 503: %s", err)
        return retry_later("database_unavailable", "the shop's database is unavailable")

    @app.errorhandler(ShopBusy)
    def busy(err: ShopBusy) -> Response:
        log.warning("no write slot, answered 503: %s", err)
        return retry_later("shop_busy", "the shop is busy with other writes")

    @app.errorhandler(HTTPException)
    def http_error(err: HTTPException) -> Response:
        code = re.sub(r"\W+", "_", (err.name or "error").lower()).strip("_")
        response = error(err.code or 500, code, err.description or code)
        for name, value in err.get_headers():  # e.g. Allow on a 405
            if name.lower() != "content-type":
                response.headers[name] = value
        return response

    @app.errorhandler(Exception)
    def crashed(err: Exception) -> Response:
        log.exception("unhandled error")
        return error(500, "internal_error", "the shop hit an unexpected error; nothing was changed")
