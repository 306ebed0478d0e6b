"""Recently viewed products: kept in the session, shown on the product and home pages."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import selectors
from catalog.models import Product
from tests.factories import ProductFactory

pytestmark = pytest.mark.django_db


def shelf(response):
    return [product.title for product in response.context["recently_viewed"]]


def viewed_ids(client):
    return client.session.get(selectors.RECENTLY_VIEWED_SESSION_KEY, [])


@pytest.fixture
def products():
    return {title: ProductFactory(title=title) for title in ("Anvil", "Bucket", "Chisel", "Drill")}


def test_most_recent_first_each_once_and_never_the_product_on_screen(client, products):
    for title in ("Anvil", "Bucket", "Chisel", "Anvil"):
        response = client.get(products[title].get_absolute_url())

    assert viewed_ids(client) == [products[t].pk for t in ("Anvil", "Chisel", "Bucket")]
    assert shelf(response) == ["Chisel", "Bucket"]  # not the Anvil on screen
    body = response.content.decode()
    assert "Recently viewed" in body and body.index("Chisel") < body.index("Bucket")

    response = client.get("/")
    assert shelf(response) == ["Anvil", "Chisel", "Bucket"]
    assert "Recently viewed" in response.content.decode()


def test_a_first_visit_shows_no_shelf(client, products):
    assert "Recently viewed" not in client.get("/").content.decode()
    response = client.get(products["Anvil"].get_absolute_url())
    assert shelf(response) == []
    assert "Recently viewed" not in response.content.decode()


def test_the_session_keeps_ten_and_pages_show_eight(client):
    many = [ProductFactory(title=f"Thing {n:02d}") for n in range(12)]
    for product in many:
        client.get(product.get_absolute_url())

    assert viewed_ids(client) == [product.pk for product in reversed(many)][:10]
    assert shelf(client.get("/")) == [f"Thing {n:02d}" for n in range(11, 3, -1)]
    assert shelf(client.get(many[-1].get_absolute_url())) == [f"Thing {n:02d}" for n in range(10, 2, -1)]


def test_products_taken_off_sale_drop_out(client, products):
    for title in ("Anvil", "Bucket", "Chisel"):
        client.get(products[title].get_absolute_url())
    Product.objects.filter(pk=products["Bucket"].pk).update(is_active=False)

    assert shelf(client.get("/")) == ["Chisel", "Anvil"]


def test_a_reload_does_not_write_the_session(client, products):
    url = products["Anvil"].get_absolute_url()
    assert client.get(url).wsgi_request.session.modified
    assert not client.get(url).wsgi_request.session.modified


def test_the_shelf_costs_one_products_by_ids_call(client, products):
    """Two statements (the products and their stock), only when there is something to show."""
    here = products["Drill"].get_absolute_url()
    client.get(here)
    with CaptureQueriesContext(connection) as alone:
        client.get(here)  # nothing else viewed: no query for the shelf
    for title in ("Anvil", "Bucket", "Chisel", "Drill"):
        client.get(products[title].get_absolute_url())
    with CaptureQueriesContext(connection) as with_shelf:
        response = client.get(here)  # the Drill is first already: no session write either

    assert shelf(response) == ["Chisel", "Bucket", "Anvil"]
    assert len(with_shelf.captured_queries) - len(alone.captured_queries) == 2
