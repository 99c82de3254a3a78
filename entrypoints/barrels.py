from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, path_id
from entrypoints.schemas import BarrelSchema
from service_layer import services

bp = Blueprint("barrels", __name__, url_prefix="/barrels")


@bp.post("/plan")
def plan() -> Response:
    return json_response(services.plan_barrels(load(BarrelSchema, many=True), new_uow()))


@bp.post("/deliver/<order_id>")
def deliver(order_id: str) -> Response:
    order_id = path_id("order_id", order_id)
    barrels = load(BarrelSchema, many=True)
    return as_response(services.deliver_barrels(order_id, barrels, new_uow()))
