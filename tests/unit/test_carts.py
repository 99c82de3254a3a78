import pytest

from domain.carts import Cart
from domain.errors import CartClosed
from tests.helpers import ALICE


def test_setting_a_quantity_replaces_it():
    cart = Cart(ALICE, 1)
    cart.set_quantity("RED_POTION", 2)
    cart.set_quantity("RED_POTION", 5)
    assert [(line.sku, line.quantity) for line in cart.lines] == [("RED_POTION", 5)]


def test_a_checked_out_cart_is_closed():
    cart = Cart(ALICE, 1)
    cart.set_quantity("RED_POTION", 2)
    assert [(line.sku, line.quantity) for line in cart.check_out("coins")] == [("RED_POTION", 2)]
    with pytest.raises(CartClosed, match="cart 1 is closed"):
        cart.set_quantity("RED_POTION", 1)
    with pytest.raises(CartClosed):
        cart.check_out("coins")


def test_carts_are_equal_by_id():
    assert Cart(ALICE, 3) == Cart(ALICE, 3)
    assert Cart(ALICE, 3) != Cart(ALICE, 4)
    assert Cart(ALICE, 3).customer == ALICE
