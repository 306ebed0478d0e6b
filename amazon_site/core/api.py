"""What every API view shares: the error body, throttling, the CSRF rule for visitors' carts, schema hooks.

Every error answers ``{"detail": "..."}``; a validation error adds
``"errors": {field: [messages]}`` (nested fields dotted: ``"address.city"``).

Careful with imports here: ``rest_framework.views`` imports this module (the
throttle classes) while it is still loading, so this module imports nothing
that imports ``rest_framework.views`` (``generics``, ``drf_spectacular.openapi``)
at load time.
"""
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, throttling
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.settings import api_settings

ERROR_REF = {"$ref": "#/components/schemas/Error"}
ERROR_SCHEMA = {
    "type": "object",
    "properties": {
        "detail": {"type": "string", "description": "What went wrong, for a person to read."},
        "errors": {
            "type": "object",
            "description": "Validation errors only: messages by field; nested fields are dotted (`address.city`).",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
        },
    },
    "required": ["detail"],
}


def exception_handler(exc, context):
    """DRF's handler, with validation errors reshaped into the one error body."""
    from rest_framework.views import exception_handler as drf_exception_handler  # see the module's docstring

    response = drf_exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        errors = _flatten(exc.detail)
        detail = next((messages[0] for messages in errors.values() if messages), exc.default_detail)
        response.data = {"detail": str(detail), "errors": errors}
    return response


def _flatten(detail, prefix="") -> dict[str, list[str]]:
    if isinstance(detail, dict):
        items = detail.items()
    elif isinstance(detail, list) and detail and all(isinstance(item, (dict, list)) for item in detail):
        items = enumerate(detail)  # a list of nested objects: one entry per item
    else:
        messages = detail if isinstance(detail, list) else [detail]
        return {prefix or api_settings.NON_FIELD_ERRORS_KEY: [str(message) for message in messages]}
    errors = {}
    for key, value in items:
        errors.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    return errors


def error_response(description: str) -> OpenApiResponse:
    """An error answer for ``extend_schema(responses=...)``: the shared error body."""
    return OpenApiResponse(response=ERROR_REF, description=description)


@csrf_exempt  # it changes nothing; a CSRF refusal would be the site's HTML 403 instead
def not_found(request, *args, **kwargs):
    """Any /api/ path no view answers: the API's 404 body, not the site's HTML page."""
    return JsonResponse({"detail": "Not found."}, status=404)


class _LiveRates:
    """Reads its rate at each request: DRF binds the rates at import, so tests could not change them."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)


class AnonRateThrottle(_LiveRates, throttling.AnonRateThrottle):
    pass


class UserRateThrottle(_LiveRates, throttling.UserRateThrottle):
    pass


class VisitorCsrf(BasePermission):
    """An anonymous visitor's cart is found through the session cookie, so a change to it
    needs the CSRF token as the pages' forms do. SessionAuthentication checks it only for
    signed-in users; token clients send no cookie and are signed in."""

    def has_permission(self, request, view):
        if request.method not in SAFE_METHODS and not request.user.is_authenticated:
            SessionAuthentication().enforce_csrf(request)
        return True


def document_errors(result, generator, request, public):
    """Postprocessing hook: every operation lists the error answers it can give.

    Views document their own business errors (409, 402, ...); this adds the
    ones every view shares, so clients and schemathesis know each status.
    """
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    for operations in result["paths"].values():
        for operation in operations.values():
            located = {(parameter["in"], parameter["name"]) for parameter in operation.get("parameters", [])}
            statuses = {
                "403": "Not signed in, not allowed, a bad token, or (session) a missing CSRF token.",
                "429": "Too many requests: the Retry-After header says when to try again.",
            }
            if "requestBody" in operation or any(where in ("query", "header") for where, _ in located):
                statuses["400"] = "Invalid input: `errors` lists the problems by field."
            if any(where == "path" for where, _ in located) or ("query", "page") in located:
                statuses["404"] = "No such object (or not yours), or no such page."
            for status, description in statuses.items():
                operation["responses"].setdefault(
                    status, {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
                )
    return result
