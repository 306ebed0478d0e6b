"""Who may read the operations details: ``/metrics`` and ``/readyz``'s per-service checks.

They tell an attacker which backends run and how busy the store is, so with
DEBUG off they need ``Authorization: Bearer <METRICS_TOKEN>``; without a
token set they are refused unless the operator opts out with METRICS_PUBLIC=1.
"""
import hmac

from django.conf import settings


def may_read_details(request) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        given = request.headers.get("Authorization", "")
        return hmac.compare_digest(given.encode(), f"Bearer {token}".encode())
    return settings.METRICS_PUBLIC
