"""What the cart refuses, with a code a client can branch on (as Saleor's ``CheckoutErrorCode``)."""
from enum import StrEnum


class CartErrorCode(StrEnum):
    INVALID_QUANTITY = "invalid_quantity"
    NOT_AVAILABLE = "not_available"  # no such product, or no longer sold
    LINE_NOT_FOUND = "line_not_found"
    CART_CHANGED = "cart_changed"  # the cart went away under a concurrent request
    EMPTY = "empty"
    OUT_OF_STOCK = "out_of_stock"  # checkout: a line holds less than its quantity
    NOT_IN_TRANSACTION = "not_in_transaction"
    INVALID_BUNDLE = "invalid_bundle"  # a bundle add naming no product, one twice, or more than a bundle holds


class CartError(Exception):
    """A request the cart cannot carry out; the message is meant for the shopper."""

    def __init__(self, message, code: CartErrorCode, lines=()):
        super().__init__(message)
        self.code = code
        self.lines = list(lines)  # titles of the lines the shopper has to fix, if any
