"""The database out of reach: the cart and checkout say ordering is paused, and nothing is written."""
import pytest
from django.db import OperationalError
from django.test import Client, RequestFactory

from amazon_site.core import errors
from cart.models import CartLine
from orders.models import Order
from tests.factories import InventoryFactory, ProductFactory, UserFactory
from tests.outages import refuse_connection

pytestmark = [pytest.mark.system]

PAUSED = "Ordering is paused for a moment"


def visitor():
    return Client(raise_request_exception=False)


@pytest.fixture
def hose():
    product = ProductFactory(title="Garden hose")
    InventoryFactory(product=product, quantity=5)
    return product


def with_a_cart(client, product):
    assert client.post("/cart/add/", {"product": product.pk, "quantity": 1}).status_code == 302


@pytest.mark.django_db
def test_the_cart_page_says_ordering_is_paused_and_nothing_is_written(hose, outage):
    shopper = visitor()
    with_a_cart(shopper, hose)
    outage.start()

    response = shopper.get("/cart/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert PAUSED in body and "Your cart is kept, and nothing has been charged" in body
    assert "We’ll be back in a moment" not in body
    assert shopper.post("/cart/add/", {"product": hose.pk, "quantity": 1}).status_code == 503
    outage.end()
    assert list(CartLine.objects.values_list("product_id", "quantity")) == [(hose.pk, 1)]


@pytest.mark.django_db
def test_the_checkout_api_says_ordering_is_paused_and_places_nothing(hose, outage):
    shopper = visitor()
    shopper.force_login(UserFactory())
    with_a_cart(shopper, hose)
    outage.start()

    response = shopper.post("/api/checkout/", {}, content_type="application/json")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": errors.ORDERING_PAUSED}
    assert shopper.get("/checkout/").status_code == 503
    assert PAUSED in shopper.get("/checkout/").content.decode()
    assert shopper.get("/api/cart/").json() == {"detail": errors.ORDERING_PAUSED}
    assert visitor().get("/api/products/").json() == {"detail": errors.UNAVAILABLE}
    outage.end()
    assert not Order.objects.exists()


def test_the_ordering_paused_page_touches_no_database():
    """No django_db mark: any query made while rendering would fail this test."""
    try:
        refuse_connection()
    except OperationalError:
        response = errors.server_error(RequestFactory().get("/checkout/review/"))
    assert response.status_code == 503
    assert PAUSED in response.content.decode()
    assert response.database_unavailable
