"""The search contract every backend keeps, on a small fixed catalog.

Runs against the database backend (PostgreSQL in CI, SQLite locally) and, when
ELASTICSEARCH_URL is set, against Elasticsearch too (skipped visibly otherwise).
"""
from decimal import Decimal

import pytest

from catalog import search as catalog_search
from catalog.search import SearchRequest
from catalog.search.suggestions import refresh_search_terms
from tests.factories import BrandFactory, InventoryFactory, ProductFactory, category_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def catalog():
    categories = category_tree()
    audio, headphones, cables, books = (categories[slug] for slug in ("audio", "headphones", "cables", "books"))
    sonic = BrandFactory(name="Sonic", slug="sonic")
    cablex = BrandFactory(name="Cablex", slug="cablex")
    readwell = BrandFactory(name="Readwell", slug="readwell")
    plain = "Made for everyday use."

    def product(title, category, brand, price, rating, stock, description=plain, **extra):
        item = ProductFactory(
            title=title, category=category, brand=brand, price=Decimal(price), rating=Decimal(rating),
            review_count=10, description=description, **extra,
        )
        InventoryFactory(product=item, quantity=stock)
        return item

    products = {
        "wireless": product("Wireless Headphones", headphones, sonic, "80.00", "4.5", 5),
        "wired": product("Wired Headphones", headphones, sonic, "20.00", "3.5", 0),
        "usb": product("USB Cable", cables, cablex, "10.00", "4.1", 10),
        "braided": product("Braided Cables Pack", cables, cablex, "30.00", "2.5", 3),
        "novel": product("The Cable Guy Novel", books, readwell, "15.00", "4.8", 2),
        "speaker": product("Sonic Speaker", audio, readwell, "120.00", "4.0", 4),
        "stand": product("Desk Stand", audio, readwell, "25.00", "3.0", 4, description="Holds any sonic device."),
        "hidden": product("Hidden Cable", cables, cablex, "5.00", "4.0", 9, is_active=False),
    }
    refresh_search_terms()
    return products


@pytest.fixture(params=["database", "elasticsearch"])
def run(request, catalog, settings):
    """search(**params) -> SearchResult on the backend under test."""
    if request.param == "elasticsearch":
        if not settings.ELASTICSEARCH_URL:
            pytest.skip("ELASTICSEARCH_URL is not set: Elasticsearch contract tests need a live server")
        request.getfixturevalue("elasticsearch_index")

    def search(**params):
        return catalog_search.search(SearchRequest.from_params(params))

    return search


@pytest.fixture
def elasticsearch_index(catalog):
    from catalog.documents import ProductDocument
    from catalog.models import Product
    from catalog.search.elasticsearch import ElasticsearchBackend

    index = ProductDocument._index
    index.delete(ignore_unavailable=True)
    index.create()
    ElasticsearchBackend().index(Product.objects.values_list("pk", flat=True))
    index.refresh()
    yield
    index.delete(ignore_unavailable=True)


def titles(result, catalog):
    by_id = {product.pk: name for name, product in catalog.items()}
    return [by_id[pk] for pk in result.ids]


def test_stemming_finds_singular_and_plural(run, catalog):
    assert set(titles(run(q="cables"), catalog)) == {"usb", "braided", "novel"}
    assert set(titles(run(q="cable"), catalog)) == {"usb", "braided", "novel"}


def test_last_word_matches_as_a_prefix(run, catalog):
    assert set(titles(run(q="headph"), catalog)) == {"wireless", "wired"}


def test_products_with_every_word_come_before_those_with_some(run, catalog):
    result = run(q="wireless headphones")
    assert titles(result, catalog) == ["wireless", "wired"]
    assert not result.widened and result.partial == 1


def test_when_no_product_has_every_word_those_with_some_are_shown(run, catalog):
    result = run(q="wireless novel")
    assert result.widened
    assert set(titles(result, catalog)) == {"wireless", "novel"}


def test_title_outranks_brand_outranks_description(run, catalog):
    # Sonic is in the speaker's title, the headphones' brand, the stand's description.
    assert titles(run(q="sonic"), catalog) == ["speaker", "wireless", "wired", "stand"]


def test_inactive_products_never_appear(run, catalog):
    assert "hidden" not in titles(run(q="cable"), catalog)
    assert "hidden" not in titles(run(category="cables"), catalog)


def test_parent_category_includes_descendants(run, catalog):
    result = run(category="electronics")
    assert set(titles(result, catalog)) == {"wireless", "wired", "usb", "braided", "speaker", "stand"}
    assert result.total == 6


def test_category_counts_are_direct_and_roll_up_in_the_facet(run, catalog):
    counts = run(q="cable").counts.categories
    assert sum(counts.values()) == 3


def test_values_of_one_facet_are_ored(run, catalog):
    result = run(brand=["cablex", "sonic"])
    assert set(titles(result, catalog)) == {"wireless", "wired", "usb", "braided"}


def test_facets_are_anded(run, catalog):
    assert titles(run(brand="cablex", price="lt25"), catalog) == ["usb"]


def test_a_facets_counts_ignore_its_own_selection(run, catalog):
    result = run(q="cable", brand="cablex")
    assert set(titles(result, catalog)) == {"usb", "braided"}
    brand_ids = {product.brand.slug: product.brand_id for product in catalog.values()}
    # The brand facet still offers Readwell (the novel) with its count ...
    assert result.counts.brands == {brand_ids["cablex"]: 2, brand_ids["readwell"]: 1}
    # ... while the other facets count only what the brand selection leaves.
    assert sum(result.counts.categories.values()) == 2
    assert result.counts.price_buckets == {"lt25": 1, "25-50": 1}


def test_price_buckets_and_custom_range(run, catalog):
    counts = run().counts.price_buckets
    assert counts == {"lt25": 3, "25-50": 2, "50-100": 1, "gte100": 1}
    assert set(titles(run(price=["lt25", "gte100"]), catalog)) == {"wired", "usb", "novel", "speaker"}
    # A reversed range is read as the range the shopper meant.
    assert set(titles(run(price_min="30", price_max="15"), catalog)) == {"novel", "braided", "wired", "stand"}


def test_rating_and_stock_filters_and_counts(run, catalog):
    result = run(q="headphones")
    assert result.counts.ratings == {4: 1, 3: 2}
    assert result.counts.in_stock == 1
    assert titles(run(q="headphones", rating_min="4"), catalog) == ["wireless"]
    assert titles(run(q="headphones", in_stock="1"), catalog) == ["wireless"]


def test_sorting(run, catalog):
    assert titles(run(category="cables", sort="price"), catalog) == ["usb", "braided"]
    assert titles(run(category="cables", sort="-price"), catalog) == ["braided", "usb"]
    assert titles(run(category="headphones", sort="rating"), catalog) == ["wireless", "wired"]
    newest = run(category="books", sort="newest")
    assert titles(newest, catalog) == ["novel"]


def test_an_empty_query_with_filters_browses(run, catalog):
    result = run(category="books")
    assert titles(result, catalog) == ["novel"]
    assert result.request.effective_sort == "newest"


def test_bad_input_is_ignored_not_an_error(run, catalog):
    baseline = run(q="cable")
    for params in (
        {"brand": "no-such-brand"},
        {"category": "no-such-category"},
        {"price": "cheap"},
        {"rating_min": "five"},
        {"sort": "DROP TABLE"},
        {"page": "abc"},
        {"price_min": "NaN"},
    ):
        result = run(q="cable", **params)
        assert result.ids == baseline.ids, params
    assert run(q="cable " + "x" * 5000).request.q.startswith("cable")
    assert len(run(q="x" * 5000).request.q) == 200


def test_a_page_that_does_not_exist_shows_the_first(run, catalog):
    first = catalog_search.search(SearchRequest.from_params({"category": "electronics"}, page_size=4))
    for page in ("9", "0", "-1", "99999999999"):
        result = catalog_search.search(SearchRequest.from_params({"category": "electronics", "page": page}, page_size=4))
        assert result.request.page == 1, page
        assert result.ids == first.ids and len(result.ids) == 4, page
    assert catalog_search.search(SearchRequest.from_params({"category": "electronics", "page": "2"}, page_size=4)).ids


def test_no_results_offers_a_spelling_suggestion(run, catalog):
    result = run(q="headphnes")
    assert result.total == 0
    assert result.suggestion == "headphones"
    assert run(q="qqqqzzzz").suggestion is None


def test_the_page_size_bounds_the_deepest_page(run, catalog, settings):
    settings.CATALOG_MAX_PAGES = 1
    result = catalog_search.search(SearchRequest.from_params({"page": "3"}, page_size=2))
    assert result.request.page == 1
