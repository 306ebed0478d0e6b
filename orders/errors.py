"""The errors of checkout and of order moves, each with a code a client can act on.

The message is for a person; the code (as in Saleor's ``CheckoutErrorCode``)
is for a program, and the API sends both: a client tells "fix the cart" from
"review the total again" without reading English.
"""
from django.db import models


class CheckoutErrorCode(models.TextChoices):
    CART_EMPTY = "cart_empty", "The cart is empty."
    OUT_OF_STOCK = "out_of_stock", "A line is short of stock or no longer sold: `lines` names it."
    CART_CHANGED = "cart_changed", "The cart changed in another window meanwhile: review it again."
    PRICE_CHANGED = "price_changed", "The total is not the reviewed expected_total any more."
    NOT_YOURS = "not_yours", "The checkout key is another shopper's."
    IN_PROGRESS = "in_progress", "The first request with this key is still charging the card."
    PAYMENT_DECLINED = "payment_declined", "The card was declined."


class OrderErrorCode(models.TextChoices):
    NOT_FOUND = "not_found", "No such order."
    INVALID_MOVE = "invalid_move", "The order's status does not allow this move."
    SHIPPING_DETAILS_MISSING = "shipping_details_missing", "Shipping needs a carrier and a tracking number."
    SEVERAL_PARCELS = "several_parcels", "The order goes out in several parcels: ship each on its own."
    RETURN_NOT_ALLOWED = "return_not_allowed", "These units cannot be returned (not delivered, too late, or already returned)."
    REFUND_FAILED = "refund_failed", "The gateway refused the refund."


class CheckoutError(Exception):
    """The cart cannot become an order as it is; the message is meant for the shopper."""

    def __init__(self, message, code: CheckoutErrorCode, lines=()):
        super().__init__(message)
        self.code = code
        self.lines = list(lines)  # titles of cart lines to fix


class OrderError(Exception):
    """A move the order's state does not allow; the message is meant for whoever asked."""

    def __init__(self, message, code: OrderErrorCode):
        super().__init__(message)
        self.code = code
