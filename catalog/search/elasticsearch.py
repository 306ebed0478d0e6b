"""Search in Elasticsearch, used when ELASTICSEARCH_URL is set.

``build_body`` and ``parse_response`` are pure functions (unit-tested without a
server); ``ElasticsearchBackend`` only adds the client calls. It finds what the
database backend finds: the same terms (``catalog.search.matching``, synonyms
and joined forms included), the same steps (every term, then most of them
while a page is not full), the same order (terms matched, then relevance with
the same field ratios and popularity boost). BM25's idf is the rarity weight
the database computes from ``SearchTerm``.

Facet filters go in ``post_filter`` and each aggregation is filtered by every
*other* facet, so a facet's counts ignore its own selection, as in the
database backend.
"""
import logging
from collections.abc import Sequence

from django.conf import settings

from catalog.documents import INDEX_NAME, ProductDocument

from .analysis import Term
from .matching import POPULARITY_BOOST, query_terms, search_in_steps
from .query import PRICE_BUCKETS, RATING_THRESHOLDS, SearchRequest
from .results import FacetCounts, Scope, SearchResult

logger = logging.getLogger(__name__)

MAX_CATEGORY_BUCKETS = 5000
MAX_BRAND_BUCKETS = 10000
# Every value of an attribute: the page lists declared values first, so the
# most frequent few would not do.
MAX_ATTRIBUTE_BUCKETS = 1000
# The database's field weights (A 1.0, B 0.5, C 0.3, D 0.1) as boosts.
FIELDS = ["title^10", "title_for^5", "brand^5", "attribute_text^3", "description"]
SORTS = {
    "relevance": [{"_score": "desc"}, {"review_count": "desc"}, {"id": "asc"}],
    "price": [{"price": "asc"}, {"id": "asc"}],
    "-price": [{"price": "desc"}, {"id": "desc"}],
    "rating": [{"rating": "desc"}, {"review_count": "desc"}, {"id": "asc"}],
    "newest": [{"created_at": "desc"}, {"id": "desc"}],
}


class SearchUnavailable(Exception):
    """Elasticsearch did not answer; the caller falls back to the database."""


def facet_filters(request: SearchRequest, scope: Scope) -> dict[str, list[dict]]:
    """Per facet, the filter clauses its selection adds (empty when nothing is selected)."""
    filters = {"category": [], "brand": [], "price": [], "rating": [], "stock": []}
    if scope.category_ids is not None:
        filters["category"].append({"terms": {"category_id": sorted(scope.category_ids)}})
    if scope.brand_ids is not None:
        filters["brand"].append({"terms": {"brand_id": sorted(scope.brand_ids)}})
    if request.price_buckets:
        filters["price"].append(
            {"bool": {"should": [{"range": {"price": _bucket_range(key)}} for key in request.price_buckets]}}
        )
    custom = {}
    if request.price_min is not None:
        custom["gte"] = float(request.price_min)
    if request.price_max is not None:
        custom["lte"] = float(request.price_max)
    if custom:
        filters["price"].append({"range": {"price": custom}})
    if request.rating_min:
        filters["rating"].append({"range": {"rating": {"gte": request.rating_min}}})
    if request.in_stock:
        filters["stock"].append({"term": {"in_stock": True}})
    for key, values in scope.attributes:
        filters[f"attribute:{key}"] = [_attribute_filter(key, values)]
    return filters


def _attribute_filter(key, values):
    return {
        "nested": {
            "path": "attributes",
            "query": {"bool": {"filter": [{"term": {"attributes.name": key}}, {"terms": {"attributes.value": list(values)}}]}},
        }
    }


def _bucket_range(key):
    _, low, high = PRICE_BUCKETS[key]
    bounds = {}
    if low is not None:
        bounds["gte"] = float(low)
    if high is not None:
        bounds["lt"] = float(high)
    return bounds


def _all_but(filters, facet):
    return [clause for name, clauses in filters.items() if name != facet for clause in clauses]


def term_clause(term: Term) -> dict:
    """A product has the term when a field has one of its alternatives; the best one scores."""
    if term.prefix:
        return _multi_match(term.alternatives[0], "phrase_prefix")
    queries = [_multi_match(words, "phrase" if len(words) > 1 else "best_fields") for words in term.alternatives]
    return queries[0] if len(queries) == 1 else {"dis_max": {"queries": queries}}


def _multi_match(words, kind):
    return {"multi_match": {"query": " ".join(words), "type": kind, "fields": FIELDS}}


def text_query(terms, required) -> dict:
    """Products with at least ``required`` of the terms, scored as the database ranks them."""
    clauses = [term_clause(term) for term in terms]
    popular = {
        "function_score": {
            "query": {"bool": {"should": clauses, "minimum_should_match": required}},
            # 1 + POPULARITY_BOOST × ln(1 + reviews), as in the database: ln1p
            # on its own (ln(1 + factor × reviews)) would zero every unreviewed product.
            "functions": [
                {"weight": 1},
                {
                    "field_value_factor": {"field": "review_count", "modifier": "ln1p", "missing": 0},
                    "weight": POPULARITY_BOOST,
                },
            ],
            "score_mode": "sum",
            "boost_mode": "multiply",
        }
    }
    if required == len(terms):
        return popular
    # Terms matched first, then relevance: one point per term the product has,
    # plus its relevance squeezed below one point.
    return {
        "function_score": {
            "query": {"script_score": {"query": popular, "script": {"source": "_score / (_score + 1)"}}},
            "functions": [{"filter": clause, "weight": 1} for clause in clauses],
            "score_mode": "sum",
            "boost_mode": "sum",
        }
    }


def build_body(request: SearchRequest, scope: Scope, terms: Sequence[Term] = (), required: int | None = None) -> dict:
    """The search body for products with at least ``required`` of ``terms`` (default: all)."""
    text = text_query(terms, len(terms) if required is None else required) if terms else {"match_all": {}}
    filters = facet_filters(request, scope)
    everything = [clause for clauses in filters.values() for clause in clauses]

    def filtered(facet, aggs, *extra):
        return {"filter": {"bool": {"filter": [*_all_but(filters, facet), *extra]}}, "aggs": aggs}

    return {
        "query": {"bool": {"must": [text], "filter": [{"term": {"is_active": True}}]}},
        "post_filter": {"bool": {"filter": everything}},
        "aggs": {
            "categories": filtered(
                "category", {"values": {"terms": {"field": "category_id", "size": MAX_CATEGORY_BUCKETS}}}
            ),
            "brands": filtered("brand", {"values": {"terms": {"field": "brand_id", "size": MAX_BRAND_BUCKETS}}}),
            "price": filtered(
                "price",
                {
                    "values": {
                        "range": {
                            "field": "price",
                            "keyed": True,
                            "ranges": [_aggregation_range(key) for key in PRICE_BUCKETS],
                        }
                    }
                },
            ),
            "ratings": filtered(
                "rating",
                {str(t): {"filter": {"range": {"rating": {"gte": t}}}} for t in RATING_THRESHOLDS},
            ),
            "in_stock": filtered("stock", {"values": {"filter": {"term": {"in_stock": True}}}}),
            # Attribute keys are free text: aggregations are numbered, and named by their meta.
            **{
                f"attribute_{number}": {
                    "meta": {"key": key},
                    # A product counts where its category shows the facet.
                    **filtered(f"attribute:{key}", _attribute_values(key), {"terms": {"category_id": category_ids}}),
                }
                for number, (key, category_ids) in enumerate(_facet_categories(scope))
            },
        },
        "sort": SORTS[request.effective_sort],
        "from": (request.page - 1) * request.page_size,
        "size": request.page_size,
        "track_total_hits": True,
        "_source": False,
    }


def _facet_categories(scope):
    """(attribute key, ids of the categories showing it as a facet), from ``facet_pairs``."""
    declared = {}
    for pair in scope.facet_pairs:
        key, _, category_id = pair.rpartition("@")
        declared.setdefault(key, []).append(int(category_id))
    return [(key, sorted(ids)) for key, ids in sorted(declared.items())]


def _attribute_values(key):
    return {
        "attributes": {
            "nested": {"path": "attributes"},
            "aggs": {
                "key": {
                    "filter": {"term": {"attributes.name": key}},
                    "aggs": {"values": {"terms": {"field": "attributes.value", "size": MAX_ATTRIBUTE_BUCKETS}}},
                }
            },
        }
    }


def _aggregation_range(key):
    _, low, high = PRICE_BUCKETS[key]
    bounds = {"key": key}
    if low is not None:
        bounds["from"] = float(low)
    if high is not None:
        bounds["to"] = float(high)
    return bounds


def parse_response(response: dict, request: SearchRequest, backend: str = "elasticsearch") -> SearchResult:
    aggregations = response.get("aggregations", {})
    counts = FacetCounts(
        categories={
            int(bucket["key"]): bucket["doc_count"]
            for bucket in aggregations.get("categories", {}).get("values", {}).get("buckets", [])
            if bucket["doc_count"]
        },
        brands={
            int(bucket["key"]): bucket["doc_count"]
            for bucket in aggregations.get("brands", {}).get("values", {}).get("buckets", [])
            if bucket["doc_count"]
        },
        price_buckets={
            key: bucket["doc_count"]
            for key, bucket in aggregations.get("price", {}).get("values", {}).get("buckets", {}).items()
            if bucket["doc_count"]
        },
        ratings={
            threshold: aggregations.get("ratings", {}).get(str(threshold), {}).get("doc_count", 0)
            for threshold in RATING_THRESHOLDS
        },
        in_stock=aggregations.get("in_stock", {}).get("values", {}).get("doc_count", 0),
        attributes=_attribute_counts(aggregations),
    )
    hits = response.get("hits", {})
    total = hits.get("total", 0)
    return SearchResult(
        request=request,
        ids=[int(hit["_id"]) for hit in hits.get("hits", [])],
        total=total["value"] if isinstance(total, dict) else int(total),
        counts=counts,
        backend=backend,
    )


def _attribute_counts(aggregations):
    counts = {}
    for name, aggregation in aggregations.items():
        if name.startswith("attribute_"):
            buckets = aggregation.get("attributes", {}).get("key", {}).get("values", {}).get("buckets", [])
            values = {bucket["key"]: bucket["doc_count"] for bucket in buckets if bucket["doc_count"]}
            if values:
                counts[aggregation["meta"]["key"]] = values
    return counts


class ElasticsearchBackend:
    name = "elasticsearch"

    def _client(self):
        from elasticsearch.dsl.connections import connections

        return connections.get_connection().options(request_timeout=settings.ELASTICSEARCH_TIMEOUT)

    def search(self, request: SearchRequest, scope: Scope) -> SearchResult:
        terms, _ = query_terms(request.q)
        if not terms:
            return self._search(request, build_body(request, scope))
        return search_in_steps(
            request, len(terms), lambda required: self._search(request, build_body(request, scope, terms, required))
        )

    def _search(self, request, body):
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        try:
            response = self._client().search(index=INDEX_NAME, body=body)
        except (ApiError, TransportError) as error:
            raise SearchUnavailable(str(error)) from error
        return parse_response(dict(response), request, backend=self.name)

    def index(self, product_ids):
        document = ProductDocument()
        products = document.get_queryset().filter(pk__in=list(product_ids))
        document.update(products.filter(is_active=True))
        self.remove(products.filter(is_active=False).values_list("pk", flat=True))

    def remove(self, product_ids):
        from elasticsearch.helpers import bulk

        actions = [{"_op_type": "delete", "_index": INDEX_NAME, "_id": pk} for pk in product_ids]
        if actions:
            bulk(self._client(), actions, raise_on_error=False)
