"""The site's answer to an unhandled error: a 503 while the database is unreachable, else a 500.

Django calls ``handler500`` inside the ``except`` block that caught the error,
so the exception is still in ``sys.exc_info()``. A lost or refused database
connection is an outage, not a bug: the shopper gets "try again shortly" with
a ``Retry-After`` instead of "something went wrong". Every service write is one
transaction, so a connection dropped half-way has written nothing. The cart and
checkout say that ordering is paused (the cart is kept, nothing charged), and
browse pages may still be served from their kept copies (``stale_pages.py``),
which is why the answer is marked ``database_unavailable``.

Neither page touches the database (no context processors, no session): the
database may be what failed. API paths get the API's JSON error body.
"""
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

RETRY_AFTER_SECONDS = 30
# The cart and checkout, as pages and in the API: where a shopper orders.
ORDERING_PREFIXES = ("/cart/", "/checkout/", "/api/cart/", "/api/checkout/")
UNAVAILABLE = "The store is briefly unavailable. Please try again shortly."
ORDERING_PAUSED = (
    "Ordering is paused for a moment: your cart is kept and nothing has been charged. Please try again in a minute."
)


def server_error(request):
    unavailable = isinstance(sys.exc_info()[1], (OperationalError, InterfaceError))
    ordering = unavailable and request.path.startswith(ORDERING_PREFIXES)
    status = 503 if unavailable else 500
    if request.path.startswith("/api/"):
        if unavailable:
            detail = ORDERING_PAUSED if ordering else UNAVAILABLE
        else:
            detail = "Something went wrong on our side."
        response = JsonResponse({"detail": detail}, status=status)
    else:
        name = "503_ordering.html" if ordering else "503.html" if unavailable else "500.html"
        response = HttpResponse(loader.get_template(name).render(), status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response.database_unavailable = unavailable
    return response
