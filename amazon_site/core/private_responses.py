"""``Cache-Control: private, no-store`` on every answer that shows someone's own things.

A shared cache (a CDN, a corporate proxy) or the browser's back button must
not keep a page with an address or an order on it: so every response to a
signed-in user (pages, the API with a token), and the cart and checkout for
anyone, since they show an anonymous visitor's cart too. Public pages for
anonymous visitors keep whatever caching they had, and so does an answer its
view marked ``public`` and that sets no cookie (a product's drawn picture):
the view vouches that it shows nobody's own things.
"""
from django.utils.cache import patch_cache_control

# The visitor's cart and checkout, as pages and in the API.
PRIVATE_PREFIXES = ("/cart/", "/checkout/", "/api/cart/", "/api/checkout/")


class PrivateResponseMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        # Read after the view: a log-in in this request counts, and DRF has set a token's user.
        user = getattr(request, "user", None)
        if "public" in response.get("Cache-Control", "") and not response.cookies:
            return response
        if request.path.startswith(PRIVATE_PREFIXES) or (user is not None and user.is_authenticated):
            patch_cache_control(response, private=True, no_store=True)
        return response
