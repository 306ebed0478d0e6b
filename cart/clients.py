"""Who is holding stock: the client behind a visitor's cart, for the limits on adds and held units.

A store cannot tell people apart before they sign in; the client address is
the best it has. It is kept only as a keyed hash, so the carts table does not
give addresses back.
"""
from django.utils.crypto import salted_hmac

from amazon_site.core import ratelimit


def client_key(request) -> str:
    """The hashed client address recorded on the visitor's cart."""
    return salted_hmac("cart.client", ratelimit.client_ip(request)).hexdigest()[:32]


def add_limit(request) -> ratelimit.Limit:
    """Adds to a cart per client address (``RATELIMIT_CART_ADD_IP``), for the page and the API alike."""
    return ratelimit.limit("cart-add", ratelimit.client_ip(request), "RATELIMIT_CART_ADD_IP")
