"""The site's answer to an unhandled error: a 503 while the database is unreachable, else a 500.

Django calls ``handler500`` inside the ``except`` block that caught the error,
so the exception is still in ``sys.exc_info()``. A lost or refused database
connection is an outage, not a bug: the shopper gets "try again shortly" with
a ``Retry-After`` instead of "something went wrong". Every service write is one
transaction, so a connection dropped half-way has written nothing.

Neither page touches the database (no context processors, no session): the
database may be what failed. API paths get the API's JSON error body.
"""
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template import loader

RETRY_AFTER_SECONDS = 30


def server_error(request):
    unavailable = isinstance(sys.exc_info()[1], (OperationalError, InterfaceError))
    status = 503 if unavailable else 500
    if request.path.startswith("/api/"):
        detail = (
            "The store is briefly unavailable. Please try again shortly."
            if unavailable
            else "Something went wrong on our side."
        )
        response = JsonResponse({"detail": detail}, status=status)
    else:
        template = loader.get_template("503.html" if unavailable else "500.html")
        response = HttpResponse(template.render(), status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
