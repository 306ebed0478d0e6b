"""The database out of reach: the cart and checkout say ordering is paused, and nothing is written."""
import uuid

import pytest
from django.db import OperationalError, connection
from django.test import Client, RequestFactory
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from amazon_site.core import errors
from cart.models import CartLine
from catalog.models import Inventory
from orders import timeline
from orders.models import Order, OrderItem
from tests.factories import InventoryFactory, ProductFactory, UserFactory
from tests.orders.helpers import ADDRESS, card
from tests.outages import drop_this_connection, refuse_connection

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


@pytest.mark.skipif(connection.vendor != "postgresql", reason="kills a real PostgreSQL connection")
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_in_the_middle_of_a_checkout_says_ordering_is_paused_and_places_nothing(hose, monkeypatch):
    shopper = APIClient(raise_request_exception=False)
    shopper.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=UserFactory()).key}")
    assert shopper.post("/api/cart/lines/", {"product": hose.pk, "quantity": 2}, format="json").status_code == 200
    total = shopper.get("/api/checkout/").json()["total"]
    log_move = timeline.log_move

    def drop_connection_then_log(order, *args, **kwargs):
        """The order and its items are written (uncommitted) when the server drops the connection."""
        assert OrderItem.objects.filter(order=order).exists()
        drop_this_connection()
        return log_move(order, *args, **kwargs)

    def place():
        body = {"address": ADDRESS, "card": card(), "expected_total": total}
        return shopper.post("/api/checkout/", body, format="json", headers={"Idempotency-Key": str(uuid.uuid4())})

    monkeypatch.setattr(timeline, "log_move", drop_connection_then_log)
    response = place()

    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": errors.ORDERING_PAUSED}
    connection.close()  # the test client keeps the dead connection; a server closes it after the request
    assert not Order.objects.exists() and not OrderItem.objects.exists()
    assert list(CartLine.objects.values_list("quantity", flat=True)) == [2]
    stock = Inventory.objects.get(product=hose)
    assert (stock.quantity, stock.reserved) == (5, 2)

    monkeypatch.setattr(timeline, "log_move", log_move)
    assert place().status_code == 201
    assert Order.objects.count() == 1
