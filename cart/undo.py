"""The cart page's "Undo" of a removal: a signed note of what was removed, from which cart, and when.

The note is signed (the shopper cannot make it name another product,
quantity or cart) and good for ``UNDO_MAX_AGE``. It is not consumed: the
undo (``services.restore_line``) brings the line back *up to* the quantity
removed, so sending it twice puts back nothing more.
"""
from datetime import timedelta

from django.core import signing

from .services import LineChange

UNDO_SALT = "cart.undo-remove"
UNDO_MAX_AGE = timedelta(minutes=30)
# The cart page's note of the last removal, shown once with its Undo button.
REMOVED_SESSION_KEY = "cart_removed"


def remember_removal(request, cart_id, change: LineChange) -> None:
    token = signing.dumps({"cart": cart_id, "product": change.product_id, "quantity": change.before}, salt=UNDO_SALT)
    request.session[REMOVED_SESSION_KEY] = {"title": change.title, "quantity": change.before, "token": token}


def pop_removal(request) -> dict | None:
    return request.session.pop(REMOVED_SESSION_KEY, None)


def read_token(token: str, cart_id) -> tuple[int, int] | None:
    """(product id, quantity) of a removal from this cart that may still be undone; None otherwise."""
    try:
        note = signing.loads(token, salt=UNDO_SALT, max_age=UNDO_MAX_AGE)
    except signing.BadSignature:  # SignatureExpired included
        return None
    if not isinstance(note, dict) or note.get("cart") != cart_id or cart_id is None:
        return None
    return note.get("product"), note.get("quantity")
