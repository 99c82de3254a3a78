from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, path_id
from entrypoints.schemas import EmptySchema, PotionMixSchema
from service_layer import services, views

bp = Blueprint("bottler", __name__, url_prefix="/bottler")


@bp.post("/plan")
def plan() -> Response:
    """What to bottle from the ml on hand (changes nothing).
    ---
    post:
      operationId: planBottling
      tags: [bottler]
      requestBody:
        required: false
        content:
          application/json:
            schema: EmptySchema
      responses:
        200:
          description: mixes within the ml on hand and the free potion capacity
          content:
            application/json:
              schema: {type: array, items: PotionMixSchema}
        503: Unavailable
    """
    load(EmptySchema, optional=True)
    return json_response(views.bottler_plan(new_uow()))


@bp.post("/deliver/<order_id>")
def deliver(order_id: str) -> Response:
    """Potions bottled: ml out, potions in.
    ---
    post:
      operationId: deliverBottles
      tags: [bottler]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: array, items: PotionMixSchema, maxItems: 1000}
            example: [{potion_type: [100, 0, 0, 0], quantity: 5}]
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        404: [unknown_potion_type]
        409: [insufficient_ml, insufficient_capacity]
        503: Unavailable
    """
    order_id = path_id("order_id", order_id)
    mixes = load(PotionMixSchema, many=True)
    return as_response(services.deliver_bottles(order_id, mixes, new_uow()))
