"""Recently viewed products: kept in a cookie, shown on the product and home pages."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from django.contrib.sessions.models import Session
from django.test import Client

from catalog import recently_viewed
from catalog.models import Product
from tests.factories import ProductFactory, UserFactory

pytestmark = pytest.mark.django_db


def shelf(response):
    return [product.title for product in response.context["recently_viewed"]]


def viewed_ids(client):
    cookie = client.cookies.get(recently_viewed.COOKIE)
    return [int(pk) for pk in cookie.value.split(".")] if cookie and cookie.value else []


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


def test_the_cookie_keeps_ten_and_pages_show_eight(client):
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


def test_a_reload_sets_no_cookie(client, products):
    url = products["Anvil"].get_absolute_url()
    assert recently_viewed.COOKIE in client.get(url).cookies
    assert recently_viewed.COOKIE not in client.get(url).cookies


def test_the_cookie_is_http_only_and_lasts_thirty_days(client, products):
    cookie = client.get(products["Anvil"].get_absolute_url()).cookies[recently_viewed.COOKIE]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"
    assert cookie["max-age"] == 30 * 24 * 3600


def test_viewing_products_writes_no_session_so_crawlers_start_none(products):
    crawler = Client()
    for product in products.values():
        crawler.cookies.clear()  # a client that never returns cookies
        assert crawler.get(product.get_absolute_url()).status_code == 200
    shopper = Client()
    shopper.force_login(UserFactory())
    sessions = {session.pk: session.expire_date for session in Session.objects.all()}
    for product in products.values():
        shopper.get(product.get_absolute_url())

    assert {session.pk: session.expire_date for session in Session.objects.all()} == sessions  # one, untouched


@pytest.mark.parametrize("cookie", ["", "abc", "x.y.z", "-1", "0", "99999999999999999999999", "a." * 500, "²", "1e3"])
def test_a_damaged_cookie_is_ignored(client, products, cookie):
    known = products["Anvil"]
    client.cookies[recently_viewed.COOKIE] = f"{cookie}.{known.pk}" if cookie else ""
    response = client.get("/")
    assert response.status_code == 200
    assert set(shelf(response)) <= {"Anvil"}


def test_logging_out_forgets_them(client, products):
    client.force_login(UserFactory())
    client.get(products["Anvil"].get_absolute_url())
    assert shelf(client.get("/")) == ["Anvil"]
    client.post("/accounts/logout/")
    assert shelf(client.get("/")) == []


def test_the_shelf_costs_one_products_by_ids_call(client, products):
    """Two statements (the products and their stock), only when there is something to show."""
    here = products["Drill"].get_absolute_url()
    client.get(here)
    with CaptureQueriesContext(connection) as alone:
        client.get(here)  # nothing else viewed: no query for the shelf
    for title in ("Anvil", "Bucket", "Chisel", "Drill"):
        client.get(products[title].get_absolute_url())
    with CaptureQueriesContext(connection) as with_shelf:
        response = client.get(here)  # the Drill is first already: no cookie either

    assert shelf(response) == ["Chisel", "Bucket", "Anvil"]
    assert len(with_shelf.captured_queries) - len(alone.captured_queries) == 2
