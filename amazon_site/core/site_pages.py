"""Small site-wide answers: the store's own 404 page in development too, and the browser's /favicon.ico.

With DEBUG on, Django answers a missing page with its technical 404 page (the
URL patterns it tried), styled by an inline ``<style>`` that the site's
Content-Security-Policy refuses: a bare page that does not look like the
store a newcomer is trying out. In DEBUG this middleware answers the site's
404.html instead; the ``Not Found: /path`` log line still tells the developer
what was asked. It is the innermost middleware, so its page goes out through
all the others (session, messages, CSP) like any view's.
"""
from django.conf import settings
from django.shortcuts import redirect
from django.templatetags.static import static
from django.views.defaults import page_not_found

# Django's debug pages (technical_404.html, technical_500.html) carry this tag; the site's pages do not.
TECHNICAL_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'
FAVICON = "img/favicon.svg"


class StoreNotFoundPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if settings.DEBUG and response.status_code == 404 and _is_technical_page(response):
            return page_not_found(request, exception=None)
        return response


def _is_technical_page(response) -> bool:
    return not response.streaming and TECHNICAL_PAGE_MARK in response.content[:2000]


def favicon(request):
    """Browsers ask for /favicon.ico whatever the page links: send them to the SVG (its hashed name in production)."""
    return redirect(static(FAVICON))
