from functools import cached_property

from . import selectors


class HeaderCart:
    """The header's cart link; counted only when a page renders it."""

    def __init__(self, request):
        self.request = request

    @cached_property
    def count(self) -> int:
        session = getattr(self.request, "session", {})
        user = getattr(self.request, "user", None)
        if user is None:
            return 0
        cart_id = selectors.visitor_cart_id(user=user, session_cart_id=session.get(selectors.CART_SESSION_KEY))
        return selectors.cart_item_count(cart_id)


def header_cart(request):
    return {"header_cart": HeaderCart(request)}
