"""The header search box's completions, as a shopper (the page endpoint) or a program (the API) sees them."""
import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog.search.typeahead import refresh_typeahead
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, category_tree

pytestmark = pytest.mark.django_db


def suggest(client, q, path="/search/suggest/"):
    response = client.get(path, {"q": q})
    assert response.status_code == 200, response.content
    return response.json()


def labels(client, q, **kwargs):
    return [suggestion["label"] for suggestion in suggest(client, q, **kwargs)["suggestions"]]


@pytest.fixture
def catalog():
    categories = category_tree()
    acme = BrandFactory(name="Acme", slug="acme")
    sonic = BrandFactory(name="Sonic", slug="sonic")
    products = {
        title: ProductFactory(title=title, category=categories[slug], brand=brand, review_count=reviews)
        for title, slug, brand, reviews in (
            ("Acme Wireless Earbuds", "headphones", acme, 40),
            ("Sonic Wireless Earbuds Pro", "headphones", sonic, 90),
            ("Acme Wired Earphones", "headphones", acme, 10),
            ("Sonic Studio Headphones", "headphones", sonic, 70),
            ("Acme HDMI Cable", "cables", acme, 5),
        )
    }
    ProductFactory(title="Acme Wireless Earbuds (discontinued)", category=categories["headphones"], brand=acme,
                   review_count=500, is_active=False)
    refresh_typeahead()
    return products


def test_every_typed_word_is_the_start_of_a_word_of_the_suggestion(client, catalog):
    assert labels(client, "wire ear") == ["Sonic Wireless Earbuds Pro", "Acme Wireless Earbuds", "Acme Wired Earphones"]
    assert labels(client, "EAR WIRELESS") == ["Sonic Wireless Earbuds Pro", "Acme Wireless Earbuds"]  # any order, any case
    assert labels(client, "ireless") == []  # the middle of a word is not its start


def test_products_are_ranked_by_reviews_and_inactive_ones_never_offered(client, catalog):
    assert labels(client, "earbuds") == ["Sonic Wireless Earbuds Pro", "Acme Wireless Earbuds"]
    assert labels(client, "discontinued") == []


def test_categories_and_brands_come_first_with_their_pages(client, catalog):
    data = suggest(client, "head")
    assert data["query"] == "head"
    assert data["suggestions"][0] == {"kind": "category", "label": "Headphones", "url": "/c/headphones/"}
    assert [s["kind"] for s in data["suggestions"]] == ["category", "product"]
    product = catalog["Sonic Studio Headphones"]
    assert data["suggestions"][1] == {"kind": "product", "label": product.title, "url": product.get_absolute_url()}

    assert suggest(client, "acm")["suggestions"][0] == {"kind": "brand", "label": "Acme", "url": "/search/?brand=acme"}


def test_a_department_counts_its_subcategories_products_and_an_empty_category_is_left_out(client, catalog):
    assert suggest(client, "el")["suggestions"] == [{"kind": "category", "label": "Electronics", "url": "/c/electronics/"}]
    assert labels(client, "bo") == []  # Books has no active product


def test_at_most_eight_with_three_places_for_categories_and_brands(client):
    brand = BrandFactory(name="Lamp Co", slug="lamp-co")
    category = CategoryFactory(name="Lamps", slug="lamps")
    for n in range(12):
        ProductFactory(title=f"Lamp model {n}", brand=brand, category=category, review_count=n)
    for n in range(4):
        ProductFactory(title=f"Other {n}", category=CategoryFactory(name=f"Lampshades {n}"))
    refresh_typeahead()

    suggestions = suggest(client, "lamp")["suggestions"]
    assert len(suggestions) == 8
    # Lamp Co and Lamps have 12 active products each (ties go by name), each Lampshades 1.
    assert [s["label"] for s in suggestions[:3]] == ["Lamp Co", "Lamps", "Lampshades 0"]
    assert [s["kind"] for s in suggestions] == ["brand", "category", "category"] + ["product"] * 5
    assert [s["label"] for s in suggestions[3:]] == [f"Lamp model {n}" for n in (11, 10, 9, 8, 7)]


def test_bad_input_never_errors(client, catalog):
    assert suggest(client, "e")["suggestions"] == []  # one character: nothing yet
    for q in ("", " ", "%", "_", "\\", "%%", "'; DROP TABLE x; --", "é" * 5000, "wire " * 300):
        data = suggest(client, q)
        assert isinstance(data["suggestions"], list), q
        assert len(data["query"]) <= 200
    assert suggest(client, "   wire    ear  ")["query"] == "wire ear"


def test_like_wildcards_are_plain_characters(client, catalog):
    # As wildcards, each would match "Earbuds" or "Wired"; they only separate words.
    for q in ("ea%ds", "w_red", "w\\ired", "%ire", "_ired"):
        assert labels(client, q) == [], q
    assert labels(client, "wi%") == labels(client, "wi")


def test_a_nul_byte_is_dropped_by_the_page_and_refused_by_the_api(client, catalog):
    assert suggest(client, "ear\x00buds")["query"] == "earbuds"
    assert labels(client, "ear\x00buds") == ["Sonic Wireless Earbuds Pro", "Acme Wireless Earbuds"]

    response = client.get("/api/search/suggest/", {"q": "ear\x00buds"})
    assert response.status_code == 400
    assert response.json()["errors"] == {"q": ["Null characters are not allowed."]}


def test_the_api_answers_the_same(client, catalog):
    assert suggest(client, "wire ear", path="/api/search/suggest/") == suggest(client, "wire ear")
    assert client.get("/api/schema/").content.decode().count("/api/search/suggest/") == 1


def test_one_query_then_the_cache_and_no_session_or_csrf(client, catalog):
    with CaptureQueriesContext(connection) as queries:
        first = client.get("/search/suggest/", {"q": "wire"})
    assert len(queries) == 1
    with CaptureQueriesContext(connection) as queries:
        again = client.get("/search/suggest/", {"q": "WIRE"})
    assert len(queries) == 0
    assert again.json()["suggestions"] == first.json()["suggestions"]
    assert first["Cache-Control"] == "public, max-age=60"
    assert not first.cookies  # neither a session nor a CSRF cookie


def test_signed_in_answers_are_private(client, catalog, django_user_model):
    client.force_login(django_user_model.objects.create_user("ada"))
    response = client.get("/search/suggest/", {"q": "wire"})
    assert "private" in response["Cache-Control"] and "public" not in response["Cache-Control"]
    assert "Cookie" in response["Vary"]


def test_a_refresh_picks_up_new_products_and_brands_and_drops_deactivated_ones(client, catalog):
    assert labels(client, "zeph") == []
    zephyr = BrandFactory(name="Zephyr", slug="zephyr")
    ProductFactory(title="Zephyr Desk Fan", brand=zephyr, review_count=3)
    product = catalog["Acme HDMI Cable"]
    product.is_active = False
    product.save()
    refresh_typeahead()
    cache.clear()  # answers are cached for a minute
    assert labels(client, "zeph") == ["Zephyr", "Zephyr Desk Fan"]
    assert labels(client, "hdmi") == []


def test_only_the_most_reviewed_products_are_offered(client, catalog, settings):
    settings.CATALOG_TYPEAHEAD_PRODUCTS = 2
    refresh_typeahead()
    assert labels(client, "wire") == ["Sonic Wireless Earbuds Pro"]  # Acme's 40 reviews are third
    assert labels(client, "acme") == ["Acme"]  # brands count all their active products


def test_words_rare_among_the_most_popular_are_found_all_the_same(client, catalog, monkeypatch):
    monkeypatch.setattr("catalog.search.typeahead.SCAN_ROWS", 1)  # PostgreSQL: the index finds the rest
    assert labels(client, "wire ear") == ["Sonic Wireless Earbuds Pro", "Acme Wireless Earbuds", "Acme Wired Earphones"]
    assert labels(client, "studio") == ["Sonic Studio Headphones"]
