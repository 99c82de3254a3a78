"""Admin and info: reset and the game clock. Both take an optional Idempotency-Key."""

from flask import Blueprint, Response

from entrypoints.http import as_response, load, new_uow, optional_key
from entrypoints.schemas import EmptySchema, GameTimeSchema
from service_layer import services
from service_layer.idempotency import fingerprint

bp = Blueprint("admin", __name__)


@bp.post("/admin/reset")
def reset() -> Response:
    body = load(EmptySchema(), optional=True)
    return as_response(services.reset(optional_key("admin/reset"), fingerprint(body), new_uow()))


@bp.post("/info/current_time")
def current_time() -> Response:
    body = load(GameTimeSchema())
    return as_response(
        services.set_time(body["day"], body["hour"], optional_key("info/current_time"), fingerprint(body), new_uow())
    )
