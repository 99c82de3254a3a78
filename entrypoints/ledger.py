"""The ledger itself (an extension to API.md): balances at any moment, history, and corrections."""

from flask import Blueprint, Response

from entrypoints.http import as_response, json_response, load, new_uow, query, required_key
from entrypoints.schemas import AsOfSchema, CorrectionSchema, HistorySchema
from service_layer import services, views
from service_layer.views import HistoryQuery

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.get("/accounts")
def accounts() -> Response:
    """Every account's balance, now or at a past moment.
    ---
    get:
      operationId: accounts
      tags: [ledger]
      parameters: [{in: query, schema: AsOfSchema}]
      responses:
        200:
          description: every account, counter-accounts included
          content:
            application/json:
              schema: AccountsSchema
        503: Unavailable
    """
    return json_response(views.accounts(query(AsOfSchema)["at"], new_uow()))


@bp.get("/transactions")
def transactions() -> Response:
    """The ledger's history, newest first.
    ---
    get:
      operationId: transactions
      tags: [ledger]
      parameters: [{in: query, schema: HistorySchema}]
      responses:
        200:
          description: a page of transactions
          content:
            application/json:
              schema: TransactionsPageSchema
        503: Unavailable
    """
    return json_response(views.transactions(HistoryQuery(**query(HistorySchema)), new_uow()))


@bp.post("/corrections")
def corrections() -> Response:
    """Correct a balance with a new transaction against adjustments/<commodity>.
    ---
    post:
      operationId: correct
      tags: [ledger]
      parameters: [IdempotencyKeyRequired]
      requestBody:
        required: true
        content:
          application/json:
            schema: CorrectionSchema
            example: {account: shop/gold, change: 50, reason: found in the till}
      responses:
        200:
          description: the correction as booked
          content:
            application/json:
              schema: CorrectionReplySchema
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        404: [unknown_account]
        409: [insufficient_gold, insufficient_ml, insufficient_stock, insufficient_capacity]
        503: Unavailable
    """
    key = required_key()
    body = load(CorrectionSchema)
    return as_response(services.correct(body["account"], body["change"], body["reason"], key, new_uow()))
