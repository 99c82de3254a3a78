from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, path_id
from entrypoints.schemas import BarrelSchema
from service_layer import services

bp = Blueprint("barrels", __name__, url_prefix="/barrels")


@bp.post("/plan")
def plan() -> Response:
    """Which barrels to buy from a wholesale catalog (changes nothing).
    ---
    post:
      operationId: planBarrels
      tags: [barrels]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: array, items: BarrelSchema, maxItems: 1000}
            example:
              - {sku: SMALL_RED_BARREL, ml_per_barrel: 500, potion_type: [1, 0, 0, 0], price: 100, quantity: 1}
      responses:
        200:
          description: skus from the offer, within gold, free ml and the quantities offered
          content:
            application/json:
              schema: {type: array, items: BarrelOrderSchema}
        503: Unavailable
    """
    return json_response(services.plan_barrels(load(BarrelSchema, many=True), new_uow()))


@bp.post("/deliver/<order_id>")
def deliver(order_id: str) -> Response:
    """Barrels delivered: pay for them, store their ml.
    ---
    post:
      operationId: deliverBarrels
      tags: [barrels]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: array, items: BarrelSchema, maxItems: 1000}
            example:
              - {sku: SMALL_RED_BARREL, ml_per_barrel: 500, potion_type: [1, 0, 0, 0], price: 100, quantity: 1}
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        409: [insufficient_gold, insufficient_capacity]
        503: Unavailable
    """
    order_id = path_id("order_id", order_id)
    barrels = load(BarrelSchema, many=True)
    return as_response(services.deliver_barrels(order_id, barrels, new_uow()))
