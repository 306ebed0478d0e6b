"""The Elasticsearch backend's pure parts, and the fallback when it is down.

No server runs here: request bodies and a recorded response (shaped like a
real one) are checked directly. Live behaviour is covered by the contract
tests in test_search_contract.py when ELASTICSEARCH_URL is set.
"""
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from elasticsearch.dsl.connections import connections

from catalog.search import SearchRequest, search
from catalog.search.elasticsearch import build_body, parse_response
from catalog.search.results import Scope
from tests.factories import BrandFactory, InventoryFactory, ProductFactory

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "data" / "es_search_response.json").read_text())


def request(**params):
    return SearchRequest.from_params(params)


def clauses(body, part):
    """The filter clauses of the post_filter or of one aggregation."""
    if part == "post_filter":
        return body["post_filter"]["bool"]["filter"]
    return body["aggs"][part]["filter"]["bool"]["filter"]


def test_text_query_matches_title_brand_and_description_with_title_weighted_most():
    body = build_body(request(q="Wireless Headph"), Scope())
    match = body["query"]["bool"]["must"][0]["multi_match"]
    assert match["query"] == "wireless headph"
    assert match["type"] == "bool_prefix"  # the last word matches as a prefix
    assert match["operator"] == "and"
    assert match["fields"] == ["title^3", "brand^2", "description"]
    assert body["query"]["bool"]["filter"] == [{"term": {"is_active": True}}]
    assert body["sort"][0] == {"_score": "desc"}


def test_widened_query_accepts_any_word():
    body = build_body(request(q="wireless novel"), Scope(), any_word=True)
    assert body["query"]["bool"]["must"][0]["multi_match"]["operator"] == "or"


def test_empty_query_browses_newest_first():
    body = build_body(request(), Scope())
    assert body["query"]["bool"]["must"] == [{"match_all": {}}]
    assert body["sort"][0] == {"created_at": "desc"}


def test_selected_facets_filter_hits_and_every_other_facets_counts():
    body = build_body(
        request(brand="acme", price=["lt25", "gte100"], rating_min="4", in_stock="1", sort="price", page="3"),
        Scope(category_ids=frozenset({5, 2}), brand_ids=frozenset({9})),
    )
    category = {"terms": {"category_id": [2, 5]}}
    brand = {"terms": {"brand_id": [9]}}
    price = {"bool": {"should": [{"range": {"price": {"lt": 25.0}}}, {"range": {"price": {"gte": 100.0}}}]}}
    rating = {"range": {"rating": {"gte": 4}}}
    stock = {"term": {"in_stock": True}}
    assert clauses(body, "post_filter") == [category, brand, price, rating, stock]
    # A facet's counts ignore its own selection and honour all the others.
    assert clauses(body, "categories") == [brand, price, rating, stock]
    assert clauses(body, "brands") == [category, price, rating, stock]
    assert clauses(body, "price") == [category, brand, rating, stock]
    assert clauses(body, "ratings") == [category, brand, price, stock]
    assert clauses(body, "in_stock") == [category, brand, price, rating]
    assert body["sort"] == [{"price": "asc"}, {"id": "asc"}]
    assert (body["from"], body["size"]) == (48, 24)


def test_custom_price_range_and_bucket_ranges():
    body = build_body(request(price_min="10", price_max="30"), Scope())
    assert clauses(body, "post_filter") == [{"range": {"price": {"gte": 10.0, "lte": 30.0}}}]
    ranges = body["aggs"]["price"]["aggs"]["values"]["range"]["ranges"]
    assert ranges == [
        {"key": "lt25", "to": 25.0},
        {"key": "25-50", "from": 25.0, "to": 50.0},
        {"key": "50-100", "from": 50.0, "to": 100.0},
        {"key": "gte100", "from": 100.0},
    ]


def test_recorded_response_becomes_a_search_result():
    result = parse_response(RECORDED, request(q="cable"))
    assert result.ids == [42, 7]
    assert result.total == 2
    assert result.counts.categories == {3: 4, 9: 1}
    assert result.counts.brands == {11: 2, 12: 1}
    assert result.counts.price_buckets == {"lt25": 3, "25-50": 1}
    assert result.counts.ratings == {4: 1, 3: 2}
    assert result.counts.in_stock == 1
    assert result.backend == "elasticsearch"


def test_response_without_aggregations_has_empty_counts():
    result = parse_response({"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}, request())
    assert (result.ids, result.total, result.counts.brands, result.counts.in_stock) == ([], 0, {}, 0)


@pytest.fixture
def dead_elasticsearch(settings):
    """ELASTICSEARCH_URL configured, but nothing listens there."""
    settings.ELASTICSEARCH_URL = "http://127.0.0.1:9"
    settings.ELASTICSEARCH_TIMEOUT = 0.5
    connections.configure(default={"hosts": settings.ELASTICSEARCH_URL})
    yield
    connections.configure(**django_settings.ELASTICSEARCH_DSL)


@pytest.mark.django_db
def test_search_falls_back_to_the_database_when_elasticsearch_is_down(dead_elasticsearch, client, caplog):
    product = ProductFactory(title="Braided Cable", brand=BrandFactory(), price=Decimal("9.99"))
    InventoryFactory(product=product, quantity=3)
    with caplog.at_level(logging.WARNING, logger="catalog.search"):
        result = search(request(q="cable"))
        page = client.get("/search/?q=cable")
        api = client.get("/api/search/?q=cable")
    assert result.backend == "database" and result.ids == [product.pk]
    assert page.status_code == 200 and "Braided" in page.content.decode()
    assert api.status_code == 200 and api.json()["backend"] == "database"
    assert "Elasticsearch unavailable" in caplog.text
