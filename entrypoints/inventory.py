from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, path_id, query
from entrypoints.schemas import AuditQuerySchema, CapacitySchema, EmptySchema
from service_layer import services, views

bp = Blueprint("inventory", __name__, url_prefix="/inventory")


@bp.get("/audit")
def audit() -> Response:
    """The shop's totals, now or at a past moment.

    Parameters other than `at` are ignored.
    ---
    get:
      operationId: audit
      tags: [inventory]
      parameters: [{in: query, schema: AuditQuerySchema}]
      responses:
        200:
          description: every figure a sum over the ledger
          content:
            application/json:
              schema: AuditSchema
        503: Unavailable
    """
    return json_response(views.audit(query(AuditQuerySchema)["at"], new_uow()))


@bp.post("/plan")
def plan() -> Response:
    """Which capacity to buy (changes nothing).
    ---
    post:
      operationId: planCapacity
      tags: [inventory]
      requestBody:
        required: false
        content:
          application/json:
            schema: EmptySchema
      responses:
        200:
          description: units of each kind to buy
          content:
            application/json:
              schema: CapacitySchema
        503: Unavailable
    """
    load(EmptySchema, optional=True)
    return json_response(views.capacity_plan(new_uow()))


@bp.post("/deliver/<order_id>")
def deliver(order_id: str) -> Response:
    """Capacity delivered: 1000 gold a unit.
    ---
    post:
      operationId: deliverCapacity
      tags: [inventory]
      requestBody:
        required: true
        content:
          application/json:
            schema: CapacitySchema
            example: {potion_capacity: 1, ml_capacity: 0}
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        409: [insufficient_gold]
        503: Unavailable
    """
    order_id = path_id("order_id", order_id)
    body = load(CapacitySchema)
    return as_response(services.deliver_capacity(order_id, body["potion_capacity"], body["ml_capacity"], new_uow()))
