"""The database out of reach: a 503 in the site's style, and nothing written half-way."""
import pytest
from django.db import OperationalError, connection
from django.test import Client

from cart.unit_of_work import Work
from cart.models import CartLine, Reservation
from catalog.models import Inventory
from tests.factories import InventoryFactory, ProductFactory
from tests.outages import drop_this_connection

pytestmark = [pytest.mark.system, pytest.mark.django_db]


@pytest.fixture
def shopper():
    """A browser that gets the error page rather than the exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def unreachable_database(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("connection to server at 127.0.0.1, port 5432 failed: Connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)


def test_a_page_answers_503_in_the_site_style_while_the_database_is_unreachable(shopper, unreachable_database):
    response = shopper.get("/c/garden/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "We’ll be back in a moment" in body
    assert "css/site.css" in body


def test_the_api_answers_503_with_its_error_body_while_the_database_is_unreachable(shopper, unreachable_database):
    response = shopper.get("/api/products/")
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert response.json() == {"detail": "The store is briefly unavailable. Please try again shortly."}


def test_other_errors_stay_500s(shopper, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("catalog.api.selectors.product_list_ids", broken)
    response = shopper.get("/api/products/")
    assert response.status_code == 500
    assert response.json() == {"detail": "Something went wrong on our side."}
    assert "Retry-After" not in response


@pytest.mark.skipif(connection.vendor != "postgresql", reason="kills a real PostgreSQL connection")
@pytest.mark.django_db(transaction=True)
def test_a_connection_dropped_in_the_middle_of_an_add_to_cart_writes_nothing(shopper, monkeypatch):
    product = ProductFactory(title="Garden hose")
    InventoryFactory(product=product, quantity=5)
    hold = Work.hold

    def drop_connection_then_hold(work, line, allocations):
        """The cart line is written (uncommitted) when the server drops the connection."""
        assert CartLine.objects.filter(product=product).exists()
        drop_this_connection()
        return hold(work, line, allocations)

    monkeypatch.setattr(Work, "hold", drop_connection_then_hold)
    response = shopper.post("/cart/add/", {"product": product.pk, "quantity": 2})

    assert response.status_code == 503
    assert "Ordering is paused for a moment" in response.content.decode()
    connection.close()  # the test client keeps the dead connection; a server closes it after the request
    assert not CartLine.objects.exists()
    assert not Reservation.objects.exists()
    stock = Inventory.objects.get(product=product)
    assert (stock.quantity, stock.reserved) == (5, 0)

    monkeypatch.setattr(Work, "hold", hold)
    assert shopper.post("/cart/add/", {"product": product.pk, "quantity": 2}).status_code == 302
    assert Inventory.objects.get(product=product).reserved == 2
