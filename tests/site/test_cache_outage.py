"""Browsing stays up when Valkey is down: a dead cache is only a slow cache."""
import pytest

from tests.factories import CategoryFactory, InventoryFactory, ProductFactory
from tests.outages import DEAD_VALKEY

pytestmark = pytest.mark.django_db

@pytest.fixture
def empty_cache():
    """Overrides the autouse fixture: clearing a dead cache is the point of this module."""
    yield


def test_pages_answer_with_valkey_down(client, settings):
    category = CategoryFactory(slug="garden")
    product = ProductFactory(category=category, title="Rake")
    InventoryFactory(product=product, quantity=2)
    settings.CACHES = DEAD_VALKEY
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

    for url in ("/", "/c/garden/", product.get_absolute_url(), "/search/?q=rake", "/accounts/login/"):
        response = client.get(url)
        assert response.status_code == 200, url
    assert "Only 2 left" in client.get(product.get_absolute_url()).content.decode()
