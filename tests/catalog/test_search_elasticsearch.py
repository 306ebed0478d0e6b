"""The Elasticsearch backend's pure parts, its matching steps, its documents, and the fallback when it is down.

No server runs here: request bodies and a recorded response (shaped like a
real one) are checked directly, and the steps against a fake client. Live behaviour is covered by the contract
tests in test_search_contract.py when ELASTICSEARCH_URL is set.
"""
import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from elasticsearch.dsl.connections import connections

from catalog.documents import ProductDocument
from catalog.models import SearchSynonym
from catalog.search import SearchRequest, search
from catalog.search.analysis import terms
from catalog.search.elasticsearch import FIELDS, ElasticsearchBackend, build_body, parse_response, term_clause
from catalog.search.matching import POPULARITY_BOOST
from catalog.search.results import Scope
from catalog.search.suggestions import refresh_search_terms
from tests.factories import BrandFactory, InventoryFactory, ProductFactory

RECORDED = json.loads((Path(__file__).resolve().parents[1] / "data" / "es_search_response.json").read_text())


def request(**params):
    return SearchRequest.from_params(params)


def clauses(body, part):
    """The filter clauses of the post_filter or of one aggregation."""
    if part == "post_filter":
        return body["post_filter"]["bool"]["filter"]
    return body["aggs"][part]["filter"]["bool"]["filter"]


def text(body):
    return body["query"]["bool"]["must"][0]


def matching(body):
    """The bool query of the terms, inside the popularity boost."""
    return text(body)["function_score"]["query"]["bool"]


def multi_match(query, kind="best_fields"):
    return {"multi_match": {"query": query, "type": kind, "fields": FIELDS}}


def test_each_term_is_one_clause_every_term_required():
    found = terms("wireless headphones")
    body = build_body(request(q="wireless headphones"), Scope(), found)
    assert matching(body) == {
        "should": [multi_match("wireless"), multi_match("headphones")],
        "minimum_should_match": 2,
    }
    assert body["query"]["bool"]["filter"] == [{"term": {"is_active": True}}]
    assert body["sort"][0] == {"_score": "desc"}


def test_fields_weigh_as_in_the_database():
    # Title 1.0, brand and what the title says it is for 0.5, attributes 0.3, description 0.1.
    assert FIELDS == ["title^10", "title_for^5", "brand^5", "attribute_text^3", "description"]


def test_alternatives_of_a_term_are_one_clause_whichever_matches_best():
    units, tv, mice = terms("64 GB tv mice", synonyms={"tv": ("television",)})
    assert term_clause(units) == multi_match("64gb")
    assert term_clause(tv) == {"dis_max": {"queries": [multi_match("television"), multi_match("tv")]}}
    assert term_clause(mice) == {"dis_max": {"queries": [multi_match("mice"), multi_match("mouse")]}}


def test_a_phrase_alternative_matches_its_words_in_a_row():
    (wifi,) = terms("wi fi", joined={"wifi"})
    assert term_clause(wifi) == {"dis_max": {"queries": [multi_match("wifi"), multi_match("wi fi", "phrase")]}}
    (tv,) = terms("tv", synonyms={"tv": ("smart television",)})
    assert multi_match("smart television", "phrase") in term_clause(tv)["dis_max"]["queries"]


def test_the_unfinished_last_word_matches_as_a_prefix():
    found = terms("wireless headph", prefix=True)
    assert matching(build_body(request(q="wireless headph"), Scope(), found))["should"] == [
        multi_match("wireless"),
        multi_match("headph", "phrase_prefix"),
    ]


def test_popularity_multiplies_the_score_as_in_the_database():
    boost = text(build_body(request(q="cable"), Scope(), terms("cable")))["function_score"]
    # 1 + POPULARITY_BOOST × ln(1 + reviews).
    assert boost["functions"] == [
        {"weight": 1},
        {"field_value_factor": {"field": "review_count", "modifier": "ln1p", "missing": 0}, "weight": POPULARITY_BOOST},
    ]
    assert (boost["score_mode"], boost["boost_mode"]) == ("sum", "multiply")


def test_a_relaxed_step_requires_fewer_terms_and_ranks_by_terms_matched_first():
    found = terms("wireless sonic headphones novel")
    body = build_body(request(q="wireless sonic headphones novel"), Scope(), found, required=3)
    ranked = text(body)["function_score"]
    # One point per term the product has, above its relevance squeezed below one.
    assert ranked["functions"] == [{"filter": term_clause(term), "weight": 1} for term in found]
    assert (ranked["score_mode"], ranked["boost_mode"]) == ("sum", "sum")
    relevance = ranked["query"]["script_score"]
    assert relevance["script"] == {"source": "_score / (_score + 1)"}
    popular = relevance["query"]["function_score"]
    assert popular["boost_mode"] == "multiply"
    assert popular["query"]["bool"]["minimum_should_match"] == 3
    assert len(popular["query"]["bool"]["should"]) == 4


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


def color_filter(*values):
    return {
        "nested": {
            "path": "attributes",
            "query": {"bool": {"filter": [{"term": {"attributes.name": "color"}}, {"terms": {"attributes.value": list(values)}}]}},
        }
    }


def test_attribute_selections_filter_hits_and_every_other_facets_counts():
    size = {
        "nested": {
            "path": "attributes",
            "query": {"bool": {"filter": [{"term": {"attributes.name": "size"}}, {"terms": {"attributes.value": ["M"]}}]}},
        }
    }
    scope = Scope(
        brand_ids=frozenset({9}),
        attributes=(("color", ("Black", "Red")), ("size", ("M",))),
        facet_pairs=frozenset({"color@5", "color@3", "size@3"}),
    )
    body = build_body(request(brand="acme"), scope)
    brand = {"terms": {"brand_id": [9]}}
    # OR within a key (one terms clause), AND across keys.
    assert clauses(body, "post_filter") == [brand, color_filter("Black", "Red"), size]
    assert clauses(body, "brands") == [color_filter("Black", "Red"), size]
    assert clauses(body, "categories") == [brand, color_filter("Black", "Red"), size]
    color, sizes = body["aggs"]["attribute_0"], body["aggs"]["attribute_1"]
    assert (color["meta"], sizes["meta"]) == ({"key": "color"}, {"key": "size"})
    # Its own selection ignored; only products whose category shows the facet.
    assert color["filter"]["bool"]["filter"] == [brand, size, {"terms": {"category_id": [3, 5]}}]
    assert sizes["filter"]["bool"]["filter"] == [brand, color_filter("Black", "Red"), {"terms": {"category_id": [3]}}]
    values = color["aggs"]["attributes"]
    assert values["nested"] == {"path": "attributes"}
    assert values["aggs"]["key"]["filter"] == {"term": {"attributes.name": "color"}}
    assert values["aggs"]["key"]["aggs"]["values"]["terms"]["field"] == "attributes.value"


def test_no_attribute_aggregations_without_attribute_facets():
    assert not [name for name in build_body(request(), Scope())["aggs"] if name.startswith("attribute")]


def test_recorded_response_becomes_a_search_result():
    result = parse_response(RECORDED, request(q="cable"))
    assert result.ids == [42, 7]
    assert result.total == 2
    assert result.counts.categories == {3: 4, 9: 1}
    assert result.counts.brands == {11: 2, 12: 1}
    assert result.counts.price_buckets == {"lt25": 3, "25-50": 1}
    assert result.counts.ratings == {4: 1, 3: 2}
    assert result.counts.in_stock == 1
    # Keys come from the aggregations' meta; a key without values is left out.
    assert result.counts.attributes == {"color": {"Black": 2, "Red": 1}, "Screen size": {"6.1 in": 3}}
    assert result.backend == "elasticsearch"


def test_response_without_aggregations_has_empty_counts():
    result = parse_response({"hits": {"total": {"value": 0, "relation": "eq"}, "hits": []}}, request())
    assert (result.ids, result.total, result.counts.brands, result.counts.in_stock) == ([], 0, {}, 0)


class FakeClient:
    """Answers like Elasticsearch would, for products given as their sets of
    words: those with at least ``minimum_should_match`` of the query's words."""

    def __init__(self, products):
        self.products, self.bodies = products, []

    def search(self, index, body):
        self.bodies.append(body)
        query = body["query"]["bool"]["must"][0]
        # One word per term: a product has the term when it has the word.
        words = {clause["multi_match"]["query"] for clause in _should(query) if "multi_match" in clause}
        hits = [{"_id": str(pk)} for pk, has in self.products.items() if len(has & words) >= _required(query)]
        return {"hits": {"total": {"value": len(hits), "relation": "eq"}, "hits": hits}}


def _popular(query):
    scored = query["function_score"]["query"]
    return scored["script_score"]["query"] if "script_score" in scored else query


def _required(query):
    return _popular(query)["function_score"]["query"]["bool"]["minimum_should_match"]


def _should(query):
    return _popular(query)["function_score"]["query"]["bool"]["should"]


@pytest.mark.django_db
def test_the_backend_takes_the_database_backends_steps(monkeypatch):
    ProductFactory(title="Wireless Headphones Sonic Novel")
    refresh_search_terms()
    client = FakeClient({1: {"wireless", "headphones", "sonic"}, 2: {"wireless"}})
    monkeypatch.setattr(ElasticsearchBackend, "_client", lambda self: client)
    result = ElasticsearchBackend().search(request(q="wireless headphones sonic novel"), Scope())
    # Every term (none has all four), then three in four, then half.
    assert [_required(body["query"]["bool"]["must"][0]) for body in client.bodies] == [4, 3, 2]
    assert result.ids == [1] and result.widened and result.partial == 1


@pytest.mark.django_db
def test_staff_synonyms_are_expanded_in_the_query(monkeypatch):
    SearchSynonym.objects.create(terms="rucksack, backpack, day pack")
    client = FakeClient({})
    monkeypatch.setattr(ElasticsearchBackend, "_client", lambda self: client)
    ElasticsearchBackend().search(request(q="rucksack"), Scope())
    assert _should(client.bodies[0]["query"]["bool"]["must"][0]) == [
        {
            "dis_max": {
                "queries": [multi_match("backpack"), multi_match("rucksack"), multi_match("day pack", "phrase")]
            }
        }
    ]


@pytest.mark.django_db
def test_the_document_mirrors_the_database_search_document():
    product = ProductFactory(
        title="Silicone Case for Nova-X Phone, 64 GB",
        description="Fits the 6.1-inch model.",
        attributes={"color": "Black", "Screen size": "6.1 in"},
    )
    document = ProductDocument().prepare(product)
    assert document["title"] == "Silicone Case Case"
    assert document["title_for"] == "Nova-X Phone, 64 GB 64gb novax"
    assert document["attribute_text"] == "Black 6.1 in 6p1in"
    assert document["description"] == "Fits the 6.1-inch model. 6p1in"
    assert document["attributes"] == [{"name": "color", "value": "Black"}, {"name": "Screen size", "value": "6.1 in"}]


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
