from functools import cached_property

from . import selectors


class HeaderCart:
    """The header's cart link; counted only when a page renders it."""

    def __init__(self, request):
        self.request = request

    @cached_property
    def count(self) -> int:
        return selectors.cart_item_count(selectors.visitor_cart_id(self.request))


def header_cart(request):
    return {"header_cart": HeaderCart(request)}
