from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, path_id, query
from entrypoints.schemas import AuditQuerySchema, CapacitySchema, EmptySchema
from service_layer import services, views

bp = Blueprint("inventory", __name__, url_prefix="/inventory")


@bp.get("/audit")
def audit() -> Response:
    return json_response(views.audit(query(AuditQuerySchema)["at"], new_uow()))


@bp.post("/plan")
def plan() -> Response:
    load(EmptySchema, optional=True)
    return json_response(views.capacity_plan(new_uow()))


@bp.post("/deliver/<order_id>")
def deliver(order_id: str) -> Response:
    order_id = path_id("order_id", order_id)
    body = load(CapacitySchema)
    return as_response(services.deliver_capacity(order_id, body["potion_capacity"], body["ml_capacity"], new_uow()))
