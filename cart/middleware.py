"""The embedded default's stand-in for beat's expiry task.

Without a broker there is no beat (``make run``), so holds that ran out would
stay counted in the trigger-kept ``in_stock`` column that search filters and
counts on, until somebody adds the product. Pages already treat lapsed holds
as free stock; this releases them for good, at most once a
``CART_EMBEDDED_EXPIRY_SECONDS`` per cache, after a request's response is
ready. With a broker (``CELERY_BROKER_URL``) beat does it and this is not used.
"""
import logging

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import MiddlewareNotUsed
from django.db import DatabaseError

from . import jobs

logger = logging.getLogger(__name__)

DUE_KEY = "cart:embedded-expiry"


class ReleaseExpiredReservationsMiddleware:
    def __init__(self, get_response):
        if not settings.CELERY_TASK_ALWAYS_EAGER:
            raise MiddlewareNotUsed
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if cache.add(DUE_KEY, True, timeout=settings.CART_EMBEDDED_EXPIRY_SECONDS):
            try:
                jobs.release_expired_reservations()
            except DatabaseError:  # a busy SQLite file: the next turn tries again
                logger.warning("expired reservations not released this time", exc_info=True)
                cache.delete(DUE_KEY)
        return response
