"""The search caches: a repeated search reads nothing again, another page of it
counts no facets again, and the cards on the page are always fresh."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from catalog import search as catalog_search
from catalog.search import SearchRequest
from catalog.search.suggestions import refresh_search_terms
from catalog.stock import set_quantity
from tests.factories import InventoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def caching(settings):
    settings.SEARCH_RESULTS_CACHE_SECONDS = 60
    settings.SEARCH_TERMS_CACHE_SECONDS = 60


@pytest.fixture
def lamps():
    items = [ProductFactory(title=f"Desk Lamp {number}", review_count=number) for number in range(30)]
    for item in items:
        InventoryFactory(product=item, quantity=5)
    refresh_search_terms()
    return items


def statements(callable_):
    with CaptureQueriesContext(connection) as captured:
        result = callable_()
    return result, [query["sql"] for query in captured.captured_queries]


def test_a_repeated_search_is_answered_from_the_cache(caching, lamps):
    first, _ = statements(lambda: catalog_search.search(SearchRequest(q="lamp")))
    again, sql = statements(lambda: catalog_search.search(SearchRequest(q="lamp")))
    assert again.ids == first.ids and again.total == 30
    assert not any("catalog_product" in statement for statement in sql)


def test_another_page_reuses_the_facet_counts(caching, lamps):
    page_one = catalog_search.search(SearchRequest(q="lamp"))
    page_two, sql = statements(lambda: catalog_search.search(SearchRequest(q="lamp", page=2)))
    assert page_two.counts == page_one.counts and page_two.total == 30
    assert len(page_two.ids) == 6 and not set(page_two.ids) & set(page_one.ids)
    assert not any("GROUPING SETS" in statement or "json_each" in statement for statement in sql)


def test_cards_stay_fresh_while_the_answer_is_cached(caching, lamps, client):
    client.get("/search/?q=lamp")
    best = lamps[-1]  # the most reviewed lamp leads the page
    set_quantity(best.inventory.get().pk, 0)
    cards = client.get("/search/?q=lamp").context["products"]
    assert cards[0].pk == best.pk and cards[0].stock_badge.level == "out"
