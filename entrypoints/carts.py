from flask import Blueprint, Response

from domain.errors import CartNotFound
from entrypoints.http import as_response, load, new_uow, optional_key, path_id
from entrypoints.schemas import CartItemSchema, CheckoutSchema, CustomerSchema
from service_layer import services
from service_layer.idempotency import fingerprint

bp = Blueprint("carts", __name__, url_prefix="/carts")
MAX_CART_ID = 2**63 - 1


def cart_id_from(value: str) -> int:
    """Any path segment that is not a whole number a cart could have is a cart that does not exist."""
    if not value.isascii() or not value.isdigit() or int(value) > MAX_CART_ID:
        raise CartNotFound(value)
    return int(value)


@bp.post("/visits/<visit_id>")
def visits(visit_id: str) -> Response:
    visit_id = path_id("visit_id", visit_id)
    customers = load(CustomerSchema(), many=True)
    return as_response(services.record_visit(visit_id, customers, fingerprint(customers), new_uow()))


@bp.post("/")
def create() -> Response:
    customer = load(CustomerSchema())
    return as_response(services.create_cart(customer, optional_key("carts"), fingerprint(customer), new_uow()))


@bp.post("/<cart_id>/items/<item_sku>")
def set_item(cart_id: str, item_sku: str) -> Response:
    cart = cart_id_from(cart_id)
    quantity = load(CartItemSchema())["quantity"]
    payload = {"cart_id": cart, "sku": item_sku, "quantity": quantity}
    return as_response(services.set_item_quantity(cart, item_sku, quantity, optional_key("carts/items"),
                                                  fingerprint(payload), new_uow()))


@bp.post("/<cart_id>/checkout")
def checkout(cart_id: str) -> Response:
    cart = cart_id_from(cart_id)
    body = load(CheckoutSchema())
    return as_response(services.checkout(cart, body["payment"], fingerprint(body), new_uow()))
