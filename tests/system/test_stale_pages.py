"""The database out of reach: browse pages seen recently by anonymous visitors are served stale."""
import re
import zlib

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, RequestFactory

from amazon_site.core import stale_pages
from tests.factories import CategoryFactory, InventoryFactory, ProductFactory, UserFactory
from tests.outages import DEAD_VALKEY

pytestmark = [pytest.mark.system]

BANNER = "This page may be out of date"
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]*)"')


def visitor():
    """A new browser, with no cookies yet, that gets the error page rather than the exception."""
    return Client(raise_request_exception=False)


@pytest.fixture
def hose():
    product = ProductFactory(title="Garden hose", category=CategoryFactory(slug="garden"))
    InventoryFactory(product=product, quantity=5)
    return product


@pytest.mark.django_db
def test_a_product_page_seen_by_a_visitor_is_served_stale_while_the_database_is_unreachable(hose, outage):
    fresh = visitor().get(hose.get_absolute_url())
    assert fresh.status_code == 200
    assert stale_pages.HEADER not in fresh
    outage.start()

    stale = visitor().get(hose.get_absolute_url())

    assert stale.status_code == 200
    assert stale[stale_pages.HEADER] == "1"
    assert int(stale["Age"]) >= 0
    assert stale["Cache-Control"] == "no-store"
    assert "Retry-After" not in stale
    assert stale["Content-Type"] == fresh["Content-Type"]
    assert "Content-Security-Policy" in stale  # the 503's security headers go out with the copy
    body = stale.content.decode()
    assert "Garden hose" in body
    assert re.search(r'<body[^>]*>\s*<p class="stale-banner" role="status">' + BANNER, body)
    assert body.count(BANNER) == 1
    head = visitor().head(hose.get_absolute_url())
    assert (head.status_code, head[stale_pages.HEADER], head.content) == (200, "1", b"")


@pytest.mark.django_db
def test_category_and_search_pages_are_kept_by_their_query_string(hose, outage):
    for url in ("/c/garden/", "/c/garden/?sort=price-asc", "/search/?q=hose", "/"):
        assert visitor().get(url).status_code == 200, url
    outage.start()

    for url in ("/c/garden/", "/c/garden/?sort=price-asc", "/search/?q=hose", "/"):
        response = visitor().get(url)
        assert (response.status_code, response.get(stale_pages.HEADER)) == (200, "1"), url
    assert "Garden hose" in visitor().get("/search/?q=hose").content.decode()
    never_seen = visitor().get("/search/?q=rake")
    assert never_seen.status_code == 503
    assert "We’ll be back in a moment" in never_seen.content.decode()


@pytest.mark.django_db
def test_a_page_never_seen_answers_503(hose, outage):
    outage.start()
    response = visitor().get(hose.get_absolute_url())
    assert response.status_code == 503
    assert response["Retry-After"] == "30"
    assert stale_pages.HEADER not in response
    assert BANNER not in response.content.decode()


def signed_in(client, product):
    client.force_login(UserFactory())


def with_a_cart(client, product):
    assert client.post("/cart/add/", {"product": product.pk, "quantity": 1}).status_code == 302


def having_viewed_another_product(client, product):
    client.get(ProductFactory(title="Rake").get_absolute_url())


@pytest.mark.django_db
@pytest.mark.parametrize("personal", [signed_in, with_a_cart, having_viewed_another_product])
def test_a_page_with_anything_personal_on_it_is_never_kept(personal, hose, outage):
    shopper = visitor()
    personal(shopper, hose)
    seen = shopper.get(hose.get_absolute_url())
    assert seen.status_code == 200
    assert not cache.get(stale_pages.cache_key(RequestFactory().get(hose.get_absolute_url())))
    outage.start()

    assert visitor().get(hose.get_absolute_url()).status_code == 503


@pytest.mark.django_db
def test_the_kept_copy_carries_no_csrf_token_and_no_cookie(hose, outage):
    first = visitor()
    fresh = first.get(hose.get_absolute_url())
    tokens = CSRF_INPUT.findall(fresh.content.decode())
    assert tokens and all(tokens), "the product page has an add-to-cart form with a token"
    kept = cache.get(stale_pages.cache_key(RequestFactory().get(hose.get_absolute_url())))
    stored_at, headers, body = kept
    assert set(headers) == {"Content-Type"}
    assert CSRF_INPUT.findall(zlib.decompress(body).decode()) == [""] * len(tokens)
    outage.start()

    stale = visitor().get(hose.get_absolute_url())
    body = stale.content.decode()
    assert stale[stale_pages.HEADER] == "1"
    assert not any(token in body for token in tokens)
    assert first.cookies["csrftoken"].value not in str(stale.cookies)


@pytest.mark.django_db
def test_a_visitor_with_a_csrf_cookie_gets_tokens_of_their_own_and_adding_to_the_cart_says_ordering_is_paused(
    hose, outage
):
    assert visitor().get(hose.get_absolute_url()).status_code == 200
    shopper = Client(enforce_csrf_checks=True, raise_request_exception=False)
    assert shopper.get("/accounts/login/").status_code == 200  # a form: the CSRF cookie is set
    outage.start()

    stale = shopper.get(hose.get_absolute_url())
    tokens = CSRF_INPUT.findall(stale.content.decode())
    assert stale[stale_pages.HEADER] == "1" and tokens and all(tokens)
    added = shopper.post("/cart/add/", {"product": hose.pk, "quantity": 1, "csrfmiddlewaretoken": tokens[0]})
    assert added.status_code == 503
    assert "Ordering is paused for a moment" in added.content.decode()


@pytest.mark.django_db
def test_a_page_kept_seconds_ago_is_not_written_again(hose, monkeypatch):
    shopper, writes = visitor(), []
    set_in_cache = cache.set

    def counted_set(key, *args, **kwargs):
        writes.append(key)
        return set_in_cache(key, *args, **kwargs)

    monkeypatch.setattr(cache, "set", counted_set)
    for _ in range(3):
        assert shopper.get("/c/garden/").status_code == 200
        assert shopper.get("/search/?q=hose").status_code == 200
    kept = [key for key in writes if key.startswith("stale-page:")]
    assert len(kept) == len(set(kept)) == 2


@pytest.mark.django_db
def test_nothing_is_kept_when_the_setting_is_zero(hose, settings, outage):
    settings.STALE_PAGES_SECONDS = 0
    assert visitor().get(hose.get_absolute_url()).status_code == 200
    outage.start()
    assert visitor().get(hose.get_absolute_url()).status_code == 503


@pytest.mark.django_db
def test_other_errors_are_not_covered_up(hose, monkeypatch):
    assert visitor().get(hose.get_absolute_url()).status_code == 200

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("catalog.selectors.product_detail", broken)
    response = visitor().get(hose.get_absolute_url())
    assert response.status_code == 500
    assert stale_pages.HEADER not in response


@pytest.mark.django_db
def test_a_cache_that_is_down_breaks_no_page(hose, settings, outage):
    settings.CACHES = DEAD_VALKEY
    assert visitor().get(hose.get_absolute_url()).status_code == 200
    outage.start()
    assert visitor().get(hose.get_absolute_url()).status_code == 503


@pytest.mark.skipif(connection.vendor != "postgresql", reason="points a real PostgreSQL connection at a dead port")
@pytest.mark.django_db(transaction=True)
def test_a_kept_page_is_served_when_the_database_server_refuses_connections(hose, monkeypatch):
    assert visitor().get(hose.get_absolute_url()).status_code == 200
    connection.close()
    monkeypatch.setitem(connection.settings_dict, "PORT", "1")  # nothing listens on port 1
    try:
        stale = visitor().get(hose.get_absolute_url())
        never_seen = visitor().get("/c/garden/")
    finally:
        monkeypatch.undo()
        connection.close()
    assert (stale.status_code, stale[stale_pages.HEADER]) == (200, "1")
    assert "Garden hose" in stale.content.decode()
    assert never_seen.status_code == 503
