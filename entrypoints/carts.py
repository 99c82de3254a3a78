from typing import Any

from flask import Blueprint, Response, current_app

from domain.errors import CartNotFound
from domain.sales import SoldLine
from entrypoints.auth import preflight_open
from entrypoints.http import as_response, json_response, load, new_uow, optional_key, path_id, query
from entrypoints.page_tokens import PageTokens
from entrypoints.schemas import CartItemSchema, CheckoutSchema, CustomerSchema, SearchSchema
from service_layer import services, views

bp = Blueprint("carts", __name__, url_prefix="/carts")
MAX_CART_ID = 2**63 - 1
SEARCH_PATH = r"^/carts/search/?$"  # called from the exchange's web page: CORS applies (cauldrons/app.py)


def cart_id_from(value: str) -> int:
    """Any path segment that is not a whole number a cart could have is a cart that does not exist."""
    if not value.isascii() or not value.isdigit() or int(value) > MAX_CART_ID:
        raise CartNotFound(value)
    return int(value)


@bp.post("/visits/<visit_id>")
def visits(visit_id: str) -> Response:
    visit_id = path_id("visit_id", visit_id)
    customers = load(CustomerSchema, many=True)
    return as_response(services.record_visit(visit_id, customers, new_uow()))


@bp.post("/")
def create() -> Response:
    customer = load(CustomerSchema)
    return as_response(services.create_cart(customer, optional_key(), new_uow()))


@bp.post("/<cart_id>/items/<item_sku>")
def set_item(cart_id: str, item_sku: str) -> Response:
    cart = cart_id_from(cart_id)
    quantity = load(CartItemSchema)["quantity"]
    return as_response(services.set_item_quantity(cart, item_sku, quantity, optional_key(), new_uow()))


@bp.post("/<cart_id>/checkout")
def checkout(cart_id: str) -> Response:
    cart = cart_id_from(cart_id)
    body = load(CheckoutSchema)
    return as_response(services.checkout(cart, body["payment"], new_uow()))


@bp.get("/search/")
@preflight_open
def search() -> Response:
    """The course's order search: lines sold, filtered, sorted and paged by keyset (5 a page)."""
    search_query, token = query(SearchSchema)
    tokens: PageTokens = current_app.extensions["cauldrons.page_tokens"]
    page = views.search_orders(search_query, tokens.load(token, search_query) if token else None, new_uow())
    return json_response(
        {
            "previous": tokens.dump(search_query, page.previous) if page.previous else None,
            "next": tokens.dump(search_query, page.next) if page.next else None,
            "results": [_result(sold) for sold in page.results],
        }
    )


def _result(sold: SoldLine) -> dict[str, Any]:
    return {
        "line_item_id": sold.line_item_id,
        "item_sku": sold.item_sku,
        "customer_name": sold.line.customer.customer_name,
        "line_item_total": sold.line.total,
        "timestamp": sold.sold_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
