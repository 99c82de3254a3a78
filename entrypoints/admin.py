"""Admin and info: reset and the game clock. Both take an optional Idempotency-Key."""

from flask import Blueprint, Response

from entrypoints.http import as_response, load, new_uow, optional_key
from entrypoints.schemas import EmptySchema, GameTimeSchema
from service_layer import services

bp = Blueprint("admin", __name__)


@bp.post("/admin/reset")
def reset() -> Response:
    """Reset the shop to its start; history is kept.
    ---
    post:
      operationId: reset
      tags: [admin]
      parameters: [IdempotencyKey]
      requestBody:
        required: false
        content:
          application/json:
            schema: EmptySchema
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        503: Unavailable
    """
    load(EmptySchema, optional=True)
    return as_response(services.reset(optional_key(), new_uow()))


@bp.post("/info/current_time")
def current_time() -> Response:
    """Set the game's day and hour, stamped on later transactions.
    ---
    post:
      operationId: setTime
      tags: [admin]
      parameters: [IdempotencyKey]
      requestBody:
        required: true
        content:
          application/json:
            schema: GameTimeSchema
            example: {day: Edgeday, hour: 2}
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        503: Unavailable
    """
    body = load(GameTimeSchema)
    return as_response(services.set_time(body["day"], body["hour"], optional_key(), new_uow()))
