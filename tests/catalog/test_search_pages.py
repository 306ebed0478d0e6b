"""The search page and API as a shopper or a program sees them."""
from decimal import Decimal

import pytest

from catalog.search.suggestions import refresh_search_terms
from tests.factories import BrandFactory, CategoryFactory, InventoryFactory, ProductFactory, category_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    cables = CategoryFactory(name="Cables", slug="cables")
    acme = BrandFactory(name="Acme", slug="acme")
    for title, price in (("USB Cable", "9.00"), ("HDMI Cable", "30.00"), ("Cable Organizer", "12.00")):
        product = ProductFactory(title=title, category=cables, brand=acme, price=Decimal(price))
        InventoryFactory(product=product, quantity=8)
    refresh_search_terms()


def test_results_highlight_the_matched_words(client, catalog):
    body = client.get("/search/?q=cables").content.decode()
    assert "<mark>Cable</mark>" in body
    assert "1–3 of 3 results" in body


def test_facet_links_keep_the_query_and_other_selections(client, catalog):
    body = client.get("/search/?q=cable&brand=acme").content.decode()
    assert 'href="?q=cable&amp;brand=acme&amp;price=lt25"' in body  # add a price bucket
    assert 'href="?q=cable"' in body  # remove the brand (its chip)
    assert "Clear all" in body


def test_no_results_keeps_filters_removable_and_suggests_a_spelling(client, catalog):
    body = client.get("/search/?q=cabel&price=gte100").content.decode()
    assert "No products match “cabel” with the selected filters" in body
    assert 'href="?q=cabel"' in body  # the price chip removes the filter
    assert 'Did you mean <a href="?q=cable">cable</a>?' in body


def test_bad_input_answers_200(client, catalog):
    for query in (
        "?q=" + "cable " * 500,
        "?q=cable&page=abc&sort=bogus&price=free&rating_min=9&brand=nope&category=nope",
        "?price_min=100&price_max=5",
        "?price_min=-3&price_max=1e400",
        "?q=%00%ff'\";--",
    ):
        assert client.get("/search/" + query).status_code == 200, query


def test_sort_and_pagination_live_in_the_url(client, catalog, settings):
    settings.CATALOG_PAGE_SIZE = 2
    body = client.get("/search/?q=cable&sort=price").content.decode()
    assert 'href="?q=cable&amp;sort=price&amp;page=2"' in body
    page = client.get("/search/?q=cable&sort=price&page=2")
    assert [p.title for p in page.context["products"]] == ["HDMI Cable"]


def test_api_answers_hits_total_and_facets(client, catalog):
    data = client.get("/api/search/?q=cable&price=lt25&sort=price").json()
    assert data["total"] == 2
    assert [hit["title"] for hit in data["results"]] == ["USB Cable", "Cable Organizer"]
    assert data["results"][0]["price"] == "9.00"
    assert {value["key"]: value["count"] for value in data["facets"]["price"]}["25-50"] == 1
    assert data["facets"]["brands"][0] == {"key": "acme", "label": "Acme", "count": 2, "selected": False, "depth": 0}
    assert data["backend"] == "database"


def test_very_broad_searches_show_estimated_counts(client, catalog, monkeypatch):
    """Past the exact-count limit, counts come from a sample and say so."""
    monkeypatch.setattr("catalog.search.database.EXACT_LIMIT", 2)
    response = client.get("/search/?q=cable")
    body = response.content.decode()
    assert response.status_code == 200
    assert len(response.context["products"]) == 3  # the hits themselves are never estimated
    assert "≈" in body and "Counts are estimated" in body
    data = client.get("/api/search/?q=cable").json()
    assert data["exact"] is False and data["total"] >= 3


def test_large_match_sets_are_paged_by_an_index_walk_in_the_same_order(client, catalog, monkeypatch):
    """Past RANK_ALL matches a page comes from an index walk (sorts) or the popular candidates
    (relevance); what the shopper sees is the same list."""
    by_price = client.get("/api/search/?q=cable&sort=price").json()
    by_relevance = client.get("/api/search/?q=cable").json()
    monkeypatch.setattr("catalog.search.database.EXACT_LIMIT", 0)
    monkeypatch.setattr("catalog.search.database.RANK_ALL", 0)
    walked = client.get("/api/search/?q=cable&sort=price").json()
    assert [hit["title"] for hit in walked["results"]] == ["USB Cable", "Cable Organizer", "HDMI Cable"]
    assert walked["results"] == by_price["results"]
    assert client.get("/api/search/?q=cable").json()["results"] == by_relevance["results"]


def test_a_match_set_estimated_large_but_found_small_is_counted_exactly(client, catalog, monkeypatch):
    # The samples find too few rows, larger ones are read, and the largest is every match.
    for dialect in ("_Postgres", "_Sqlite"):
        monkeypatch.setattr(f"catalog.search.database.{dialect}.estimate_matches", lambda *args, **kwargs: 10**6)
    data = client.get("/api/search/?q=cable&price=lt25").json()
    assert data["exact"] is True
    assert data["total"] == 2
    assert {value["key"]: value["count"] for value in data["facets"]["price"]}["25-50"] == 1


def test_a_nul_byte_in_the_query_string_is_dropped_not_an_error(client, catalog):
    response = client.get("/search/?q=cab%00le&brand=ac%00me")

    assert response.status_code == 200
    assert response.context["query"] == "cable"
    assert {product.title for product in response.context["products"]} == {"USB Cable", "HDMI Cable", "Cable Organizer"}
    assert [chip.label for chip in response.context["facets"].selected] == ["Acme"]


@pytest.fixture
def departments():
    categories = category_tree()
    for title, slug in (("Radio", "electronics"), ("HDMI Cable", "cables"), ("Speaker", "audio")):
        ProductFactory(title=title, category=categories[slug])


def test_choosing_a_subcategory_narrows_the_department(client, departments):
    body = client.get("/search/?category=electronics").content.decode()
    assert 'href="?category=cables"' in body  # the subcategory replaces its department
    assert "category=electronics&amp;category=cables" not in body

    response = client.get("/search/?category=electronics&category=cables")
    assert [product.title for product in response.context["products"]] == ["HDMI Cable"]
    assert [chip.label for chip in response.context["facets"].selected] == ["Cables"]
    body = response.content.decode()
    assert "1–1 of 1 results" in body
    assert 'href="?category=electronics"' in body  # the department widens back
    assert 'href="?category=cables&amp;category=audio"' in body  # a sibling is OR-ed


def test_the_api_reads_a_department_and_its_subcategory_as_the_subcategory(client, departments):
    data = client.get("/api/search/?category=cables&category=electronics").json()
    assert [hit["title"] for hit in data["results"]] == ["HDMI Cable"]
    assert data["total"] == 1


def test_a_page_that_does_not_exist_shows_the_first(client, catalog, settings):
    settings.CATALOG_PAGE_SIZE = 2
    first = [p.title for p in client.get("/search/?q=cable&sort=price").context["products"]]
    for bad in ("0", "-1", "3", "99999999999"):
        response = client.get(f"/search/?q=cable&sort=price&page={bad}")
        assert [p.title for p in response.context["products"]] == first, bad
        assert "Page 1 of 2" in response.content.decode(), bad
    assert client.get("/api/search/?q=cable&sort=price&page=3").json()["results"][0]["title"] == first[0]


def test_a_capped_result_count_is_never_below_the_facet_counts(client, small_pages):
    """Browsing stops after 3 pages of 2, but 8 products match: the page says 8, as its departments add up to."""
    for name, many in (("Electronics", 5), ("Books", 3)):
        category = CategoryFactory(name=name, slug=name.lower())
        ProductFactory.create_batch(many, category=category)
    response = client.get("/search/")
    body = response.content.decode()
    departments = sum(value.count for value in response.context["facets"].categories)
    assert departments == 8
    assert "1–2 of 8 results" in body
    assert "over 6" not in body
    last = client.get("/search/?page=3").content.decode()
    assert "5–6 of 8 results" in last and "That is as far as browsing goes" in last


def test_an_index_walk_keeps_the_price_filter(client, catalog, monkeypatch):
    in_memory = client.get("/api/search/?q=cable&sort=price&price=lt25").json()
    monkeypatch.setattr("catalog.search.database.EXACT_LIMIT", 0)
    monkeypatch.setattr("catalog.search.database.SORT_ALL", 0)
    walked = client.get("/api/search/?q=cable&sort=price&price=lt25").json()
    assert [hit["title"] for hit in walked["results"]] == ["USB Cable", "Cable Organizer"]
    assert walked["results"] == in_memory["results"]
