"""Recently viewed products, kept in a cookie of the visitor's browser.

Not in the session: every product view would write the session row, and a
crawler that never returns cookies would start a new session row with each
product it fetches. The cookie holds up to ``KEPT`` product ids, most recent
first (``"12.7.3"``). It only chooses which cards its own visitor sees, so it
is not signed; anything in it that is not an id is ignored. Logging out
deletes it, as it ends the session (``catalog.signals.forget_recently_viewed``).
"""
from datetime import timedelta

from django.conf import settings

from amazon_site.core.ids import is_id

COOKIE = "recently_viewed"
KEPT = 10
MAX_AGE = timedelta(days=30)


def viewed_ids(request) -> list[int]:
    """The ids in the visitor's cookie, most recent first, each once."""
    ids = []
    for part in request.COOKIES.get(COOKIE, "").split(".")[:KEPT]:
        if is_id(part) and int(part) not in ids:
            ids.append(int(part))
    return ids


def remember(request, response, product_id: int) -> None:
    """Put the product first in the cookie; a reload of the first one sets nothing."""
    viewed = viewed_ids(request)
    if viewed[:1] == [product_id]:
        return
    ids = [product_id, *(pk for pk in viewed if pk != product_id)][:KEPT]
    response.set_cookie(
        COOKIE,
        ".".join(map(str, ids)),
        max_age=MAX_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def forget(response) -> None:
    response.delete_cookie(COOKIE, samesite="Lax")
