"""Search in Elasticsearch, used when ELASTICSEARCH_URL is set.

``build_body`` and ``parse_response`` are pure functions (unit-tested without a
server); ``ElasticsearchBackend`` only adds the client calls. Facet filters go
in ``post_filter`` and each aggregation is filtered by every *other* facet, so
a facet's counts ignore its own selection, as in the database backend.
"""
import logging

from django.conf import settings

from catalog.documents import INDEX_NAME, ProductDocument

from .query import PRICE_BUCKETS, RATING_THRESHOLDS, SearchRequest
from .results import FacetCounts, Scope, SearchResult

logger = logging.getLogger(__name__)

MAX_CATEGORY_BUCKETS = 5000
MAX_BRAND_BUCKETS = 10000
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
    return filters


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


def build_body(request: SearchRequest, scope: Scope, *, any_word: bool = False) -> dict:
    words = request.words
    if words:
        text = {
            "multi_match": {
                "query": " ".join(words),
                # bool_prefix: the last word matches as a prefix while typing.
                "type": "bool_prefix",
                "fields": ["title^3", "brand^2", "description"],
                "operator": "or" if any_word else "and",
            }
        }
    else:
        text = {"match_all": {}}
    filters = facet_filters(request, scope)
    everything = [clause for clauses in filters.values() for clause in clauses]

    def filtered(facet, aggs):
        return {"filter": {"bool": {"filter": _all_but(filters, facet)}}, "aggs": aggs}

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
        },
        "sort": SORTS[request.effective_sort],
        "from": (request.page - 1) * request.page_size,
        "size": request.page_size,
        "track_total_hits": True,
        "_source": False,
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


class ElasticsearchBackend:
    name = "elasticsearch"

    def _client(self):
        from elasticsearch.dsl.connections import connections

        return connections.get_connection().options(request_timeout=settings.ELASTICSEARCH_TIMEOUT)

    def search(self, request: SearchRequest, scope: Scope) -> SearchResult:
        result = self._search(request, scope, any_word=False)
        if result.total == 0 and len(request.words) > 1:
            widened = self._search(request, scope, any_word=True)
            if widened.total:
                widened.widened = True
                return widened
        return result

    def _search(self, request, scope, *, any_word):
        from elastic_transport import TransportError
        from elasticsearch import ApiError

        try:
            response = self._client().search(index=INDEX_NAME, body=build_body(request, scope, any_word=any_word))
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
