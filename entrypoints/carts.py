from typing import Any, cast

from flask import Blueprint, Response, current_app

from domain.errors import CartNotFound
from domain.sales import BIGINT_MAX, SoldLine
from entrypoints.auth import preflight_open
from entrypoints.http import as_response, json_response, load, new_uow, optional_key, path_id, path_text, query
from entrypoints.page_tokens import PageTokens
from entrypoints.schemas import CartItemSchema, CheckoutSchema, CustomerSchema, SearchSchema
from service_layer import services, views

bp = Blueprint("carts", __name__, url_prefix="/carts")
MAX_CART_ID = BIGINT_MAX
SEARCH_PATH = r"^/carts/search/?$"  # called from the exchange's web page: CORS applies (cauldrons/app.py)


def cart_id_from(value: str) -> int:
    """Any path segment that is not a whole number a cart could have is a cart that does not exist; one that is not
    even text (a NUL) is refused."""
    path_text("cart_id", value)
    if not value.isascii() or not value.isdigit() or int(value) > MAX_CART_ID:
        raise CartNotFound(value)
    return int(value)


@bp.post("/visits/<visit_id>")
def visits(visit_id: str) -> Response:
    """Who visited the shop.
    ---
    post:
      operationId: recordVisit
      tags: [carts]
      requestBody:
        required: true
        content:
          application/json:
            schema: {type: array, items: CustomerSchema, maxItems: 1000}
            example:
              - {customer_id: c-1, customer_name: Scaramouche, character_class: Wizard, character_species: Elf,
                 level: 7}
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        503: Unavailable
    """
    visit_id = path_id("visit_id", visit_id)
    customers = load(CustomerSchema, many=True)
    return as_response(services.record_visit(visit_id, customers, new_uow()))


@bp.post("/")
def create() -> Response:
    """Open a cart for a customer.
    ---
    post:
      operationId: createCart
      tags: [carts]
      parameters: [IdempotencyKey]
      requestBody:
        required: true
        content:
          application/json:
            schema: CustomerSchema
            example: {customer_id: c-1, customer_name: Scaramouche, character_class: Wizard, character_species: Elf,
                      level: 7}
      responses:
        200:
          description: the new cart
          content:
            application/json:
              schema: NewCartSchema
          headers: {Idempotent-Replayed: Idempotent-Replayed}
          links:
            SetItem:
              operationId: setCartItem
              parameters: {cart_id: "$response.body#/cart_id"}
              description: put potions in the new cart
            Checkout:
              operationId: checkout
              parameters: {cart_id: "$response.body#/cart_id"}
              description: check the new cart out
        503: Unavailable
    """
    customer = load(CustomerSchema)
    return as_response(services.create_cart(customer, optional_key(), new_uow()))


@bp.post("/<cart_id>/items/<item_sku>")
def set_item(cart_id: str, item_sku: str) -> Response:
    """Set (not add) how many of a potion the cart holds.
    ---
    post:
      operationId: setCartItem
      tags: [carts]
      parameters: [IdempotencyKey]
      requestBody:
        required: true
        content:
          application/json:
            schema: CartItemSchema
            example: {quantity: 2}
      responses:
        204:
          description: done; the body is empty
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        404: [cart_not_found, unknown_sku]
        409: [cart_closed]
        503: Unavailable
    """
    cart = cart_id_from(cart_id)
    sku = path_text("item_sku", item_sku)
    quantity = load(CartItemSchema)["quantity"]
    return as_response(services.set_item_quantity(cart, sku, quantity, optional_key(), new_uow()))


@bp.post("/<cart_id>/checkout")
def checkout(cart_id: str) -> Response:
    """Check a cart out: all of it or nothing.
    ---
    post:
      operationId: checkout
      tags: [carts]
      requestBody:
        required: true
        content:
          application/json:
            schema: CheckoutSchema
            example: {payment: gold coins}
      responses:
        200:
          description: what was sold, at the catalog price
          content:
            application/json:
              schema: CheckoutReplySchema
          headers: {Idempotent-Replayed: Idempotent-Replayed}
        404: [cart_not_found]
        409: [insufficient_stock, cart_closed]
        503: Unavailable
    """
    cart = cart_id_from(cart_id)
    body = load(CheckoutSchema)
    return as_response(services.checkout(cart, body["payment"], new_uow()))


@bp.get("/search/")
@preflight_open
def search() -> Response:
    """Search the lines sold (the exchange's order search).

    Filters are case-insensitive *contains*; pages are walked by sending `next` or `previous` back as `search_page`.
    Other parameters are ignored.
    ---
    get:
      operationId: searchOrders
      tags: [carts]
      parameters: [{in: query, schema: SearchSchema}]
      responses:
        200:
          description: a page of at most five lines, with tokens to the pages either side
          content:
            application/json:
              schema: SearchPageSchema
        503: Unavailable
    """
    search_query, token = query(SearchSchema)
    tokens = cast(PageTokens, current_app.extensions["cauldrons.page_tokens"]).now()
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
