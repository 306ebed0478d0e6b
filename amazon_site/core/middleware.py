"""Request id: one per request, on every log line and in the ``X-Request-ID`` response header."""
import re
import uuid

from django.core.signals import request_finished

from .logging import request_id_var

HEADER = "X-Request-ID"
# An id from a proxy or a client is kept only if it is a short, plain token:
# it ends up in log lines and a response header.
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def incoming_or_new(value) -> str:
    if value and _SANE.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = incoming_or_new(request.headers.get(HEADER))
        # Kept until the request is finished (below), not just until this returns:
        # Django logs 4xx/5xx responses ("django.request") after the middleware.
        request_id_var.set(request.request_id)
        response = self.get_response(request)
        response[HEADER] = request.request_id
        return response


def _forget_request_id(**kwargs):
    request_id_var.set("-")


request_finished.connect(_forget_request_id, dispatch_uid="amazon_site.request_id")
