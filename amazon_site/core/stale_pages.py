"""Browse pages served from a kept copy while the database is unreachable.

A shopper who can still see the catalog during a database outage waits for it
to come back; one who gets "back in a moment" on every page leaves. So each
browse page (home, category, product, search) answered 200 to an anonymous
visitor is kept in the cache for ``STALE_PAGES_SECONDS``, compressed, keyed by
its path and query string. When the same page later gets the 503 that
``errors.server_error`` marks ``database_unavailable``, the kept copy is sent
instead: a 200 with ``X-Stale-Page: 1``, its ``Age``, ``Cache-Control:
no-store`` (no proxy may keep it past the outage) and a banner saying that it
may be out of date and ordering is paused. A page never kept keeps its 503.

Nothing personal is kept. Only a page for a visitor sending no cookie but the
CSRF one: the account, the cart and messages live in the session, recently
viewed products in a cookie of their own, so the cookies tell without asking
the apps (this ground floor imports none). Never a page marked private (a
signed-in user's, see ``private_responses.py``). The CSRF tokens' values are
cut out of its forms (a visitor with a CSRF cookie gets the copy with tokens of
their own), and only the headers describing the content are kept (never
``Set-Cookie``). The middleware is outside all others but the request id
and the metrics: it sees the answer as they made it, private marking included,
and its copy goes out with the 503's security headers.

Cost: a page this process kept less than ``REFRESH_SECONDS`` ago (a tenth of
``STALE_PAGES_SECONDS`` if that is shorter) is not compressed and written
again, which a dict look-up tells; otherwise a zlib compression and
one cache write: measured 0.1-0.4 ms for a 15 kB category page and 1.4 ms for a
76 kB product page (12 kB compressed), on requests of 15-30 ms. A cache that is
down only means no copy.
"""
import hashlib
import logging
import re
import time
import zlib

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from django.middleware.csrf import get_token

from .routing import BROWSE_PAGES

logger = logging.getLogger(__name__)

CACHE_KEY = "stale-page:v1:{}"
HEADER = "X-Stale-Page"
KEPT_HEADERS = ("Content-Type", "Content-Language")
# Headers of the 503 that describe the 503 itself, not the page served in its place.
REPLACED_HEADERS = {"content-type", "content-length", "retry-after", "cache-control"}
REFRESH_SECONDS = 60
# Past this many paths the process's memory of what it kept starts over (search queries are unbounded).
REMEMBERED_PATHS = 10_000
_CSRF_VALUE = re.compile(rb'(name="csrfmiddlewaretoken"\s+value=")[^"]*(")')
_BODY_TAG = re.compile(rb"<body\b[^>]*>", re.IGNORECASE)
BANNER = (
    '\n<p class="stale-banner" role="status">This page may be out of date: the store can’t reach its records '
    "right now, so ordering is paused for a moment. Please try again in a minute.</p>"
).encode()


class StalePagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.kept_at = {}  # cache key -> time.monotonic() of this process's last write

    def __call__(self, request):
        response = self.get_response(request)
        seconds = settings.STALE_PAGES_SECONDS
        if seconds <= 0 or request.method not in ("GET", "HEAD"):
            return response
        if getattr(response, "database_unavailable", False):
            return self.kept_copy(request, response)
        if request.method == "GET" and _is_public_browse_page(request, response):
            self.keep(request, response, seconds)
        return response

    def keep(self, request, response, seconds):
        key = cache_key(request)
        now = time.monotonic()
        if now - self.kept_at.get(key, -REFRESH_SECONDS) < min(REFRESH_SECONDS, seconds / 10):
            return
        if len(self.kept_at) >= REMEMBERED_PATHS:
            self.kept_at.clear()
        self.kept_at[key] = now
        headers = {name: response[name] for name in KEPT_HEADERS if response.has_header(name)}
        body = zlib.compress(_CSRF_VALUE.sub(rb"\1\2", response.content), 6)
        try:
            cache.set(key, (time.time(), headers, body), seconds)
        except Exception:  # the cache is down: no copy, the page still goes out
            logger.warning("Could not keep a copy of %s for a database outage", request.path, exc_info=True)

    def kept_copy(self, request, response):
        """The kept copy of the page in place of the outage's 503, or the 503 when there is none."""
        try:
            kept = cache.get(cache_key(request))
        except Exception:  # the cache is down too: the 503 stands
            logger.warning("Could not read the kept copy of %s", request.path, exc_info=True)
            return response
        if kept is None:
            return response
        stored_at, headers, body = kept
        body = _BODY_TAG.sub(lambda tag: tag[0] + BANNER, zlib.decompress(body), count=1)
        if settings.CSRF_COOKIE_NAME in request.COOKIES:
            # The visitor's own token: an add to cart then gets "ordering is paused", not a CSRF refusal.
            body = _CSRF_VALUE.sub(rb"\g<1>" + get_token(request).encode() + rb"\g<2>", body)
        page = HttpResponse(body)
        for name, value in response.items():
            if name.lower() not in REPLACED_HEADERS:
                page[name] = value
        for name, value in headers.items():
            page[name] = value
        page.cookies = response.cookies
        page[HEADER] = "1"
        page["Age"] = str(max(0, int(time.time() - stored_at)))
        page["Cache-Control"] = "no-store"
        logger.info("Served a kept copy of %s during a database outage", request.path)
        return page


def cache_key(request) -> str:
    return CACHE_KEY.format(hashlib.sha256(request.get_full_path().encode()).hexdigest())


def _is_public_browse_page(request, response) -> bool:
    """A browse page's 200 HTML that nothing personal went into: see the module's docstring."""
    match = request.resolver_match
    cache_control = response.get("Cache-Control", "")
    return (
        match is not None
        and match.url_name in BROWSE_PAGES
        and response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and "private" not in cache_control
        and "no-store" not in cache_control
        and set(request.COOKIES) <= {settings.CSRF_COOKIE_NAME}
    )
