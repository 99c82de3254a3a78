from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, path_id
from entrypoints.schemas import EmptySchema, PotionMixSchema
from service_layer import services, views

bp = Blueprint("bottler", __name__, url_prefix="/bottler")


@bp.post("/plan")
def plan() -> Response:
    load(EmptySchema, optional=True)
    return json_response(views.bottler_plan(new_uow()))


@bp.post("/deliver/<order_id>")
def deliver(order_id: str) -> Response:
    order_id = path_id("order_id", order_id)
    mixes = load(PotionMixSchema, many=True)
    return as_response(services.deliver_bottles(order_id, mixes, new_uow()))
