"""Admin and info: reset and the game clock. Both take an optional Idempotency-Key."""

from flask import Blueprint, Response

from entrypoints.http import as_response, load, new_uow, optional_key
from entrypoints.schemas import EmptySchema, GameTimeSchema
from service_layer import services

bp = Blueprint("admin", __name__)


@bp.post("/admin/reset")
def reset() -> Response:
    load(EmptySchema, optional=True)
    return as_response(services.reset(optional_key(), new_uow()))


@bp.post("/info/current_time")
def current_time() -> Response:
    body = load(GameTimeSchema)
    return as_response(services.set_time(body["day"], body["hour"], optional_key(), new_uow()))
