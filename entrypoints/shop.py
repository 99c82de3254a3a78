"""Root and catalog: the two routes anyone may call."""

from flask import Blueprint, Response

from entrypoints.auth import public
from entrypoints.http import json_response, new_uow
from service_layer import views

bp = Blueprint("shop", __name__)


@bp.get("/")
@public
def root() -> Response:
    """Is the shop open?
    ---
    get:
      operationId: root
      tags: [shop]
      responses:
        200:
          description: it is
          content:
            application/json:
              schema: MessageSchema
    """
    return json_response({"message": "Shop is open for business!"})


@bp.get("/catalog/")
@public
def catalog() -> Response:
    """What the shop sells.
    ---
    get:
      operationId: catalog
      tags: [shop]
      responses:
        200:
          description: >-
            at most six potions in stock, at the prices of this tick's shelf: the shelf's chosen potions first
            (in its order), then the most plentiful
          content:
            application/json:
              schema: {type: array, items: CatalogItemSchema}
        503: Unavailable
    """
    return json_response(views.catalog(new_uow()))
