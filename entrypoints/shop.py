"""Root and catalog: the two routes anyone may call."""

from flask import Blueprint, Response

from entrypoints.auth import public
from entrypoints.http import json_response, new_uow
from service_layer import views

bp = Blueprint("shop", __name__)


@bp.get("/")
@public
def root() -> Response:
    return json_response({"message": "Shop is open for business!"})


@bp.get("/catalog/")
@public
def catalog() -> Response:
    return json_response(views.catalog(new_uow()))
