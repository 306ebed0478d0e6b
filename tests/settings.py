"""Settings for the test suite: the store's own settings with a fast password hasher.

Django's PBKDF2 costs most of a second per user made, several per test. MD5
proves nothing about password storage, which is why
``tests/site/test_password_hashing.py`` runs the production hashers.
"""
from amazon_site.settings import *  # noqa: F401,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# Tests decide when holds expire; tests/cart/test_embedded_expiry.py installs the
# embedded default's expiry middleware for itself.
EMBEDDED_EXPIRY = "cart.middleware.ReleaseExpiredReservationsMiddleware"
MIDDLEWARE = [name for name in MIDDLEWARE if name != EMBEDDED_EXPIRY]  # noqa: F405

# A test changes the catalog and searches again at once; the search caches have
# tests of their own (tests/catalog/test_search_caches.py).
SEARCH_RESULTS_CACHE_SECONDS = 0
SEARCH_TERMS_CACHE_SECONDS = 0
