"""The ledger itself (an extension to API.md): balances at any moment, history, and corrections."""

from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, query, required_key
from entrypoints.schemas import AsOfSchema, CorrectionSchema, HistorySchema
from service_layer import services, views
from service_layer.views import HistoryQuery

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.get("/accounts")
def accounts() -> Response:
    return json_response(views.accounts(query(AsOfSchema)["at"], new_uow()))


@bp.get("/transactions")
def transactions() -> Response:
    return json_response(views.transactions(HistoryQuery(**query(HistorySchema)), new_uow()))


@bp.post("/corrections")
def corrections() -> Response:
    key = required_key()
    body = load(CorrectionSchema)
    return as_response(services.correct(body["account"], body["change"], body["reason"], key, new_uow()))
