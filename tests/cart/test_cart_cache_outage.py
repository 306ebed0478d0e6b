"""The cart works with Valkey down: the database is the source of truth."""
import pytest

from cart.models import CartLine
from tests.factories import stocked_product
from tests.outages import DEAD_VALKEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def empty_cache():
    """Overrides the autouse fixture: clearing a dead cache is the point of this module."""
    yield


def test_shopping_with_valkey_down(client, settings):
    product = stocked_product(3, title="Rake")
    settings.CACHES = DEAD_VALKEY
    settings.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"

    page = client.get(product.get_absolute_url())
    assert page.status_code == 200 and "Only 3 left" in page.content.decode()

    response = client.post("/cart/add/", {"product": product.pk, "quantity": "2"}, follow=True)

    assert response.status_code == 200
    body = response.content.decode()
    assert "Rake" in body and 'class="cart-count">2<' in body
    assert CartLine.objects.get().quantity == 2
    for url in ("/", "/cart/", product.get_absolute_url()):
        assert client.get(url).status_code == 200, url
    assert "Only 1 left" in client.get(product.get_absolute_url()).content.decode()
