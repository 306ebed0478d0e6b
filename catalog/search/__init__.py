"""Product search: one interface, two backends.

``search(SearchRequest) -> SearchResult`` is what pages and the API call. The
database backend is the default; with ELASTICSEARCH_URL set, Elasticsearch
answers, and any request it fails (down, timeout) is answered by the database
instead, with a warning in the log: browsing stays up when search is down.
"""
import hashlib
import logging
from dataclasses import replace

from django.conf import settings
from django.core.cache import cache

from catalog.models import Brand
from catalog.selectors import attribute_facets, category_tree

from .database import DatabaseBackend
from .elasticsearch import ElasticsearchBackend, SearchUnavailable
from .query import SearchRequest
from .results import FacetCounts, Scope, SearchResult

__all__ = ["FacetCounts", "Scope", "SearchRequest", "SearchResult", "get_backend", "search"]

logger = logging.getLogger(__name__)


def get_backend():
    return ElasticsearchBackend() if settings.ELASTICSEARCH_URL else DatabaseBackend()


def search(request: SearchRequest) -> SearchResult:
    request, scope = _resolve(request)
    key = "catalog:search:v1:" + hashlib.sha256(repr((request, get_backend().name)).encode()).hexdigest()
    result = cache.get(key)
    if result is None:
        result = _search_pages(request, scope)
        cache.set(key, result, settings.SEARCH_RESULTS_CACHE_SECONDS)
    return result


def _search_pages(request, scope):
    max_results = settings.CATALOG_MAX_PAGES * request.page_size
    if request.page > settings.CATALOG_MAX_PAGES:  # a page that does not exist is the first, as on every list
        request = replace(request, page=1)
    result = _search(get_backend(), request, scope)
    last_page = max(1, -(-min(result.total, max_results) // request.page_size))
    if request.page > last_page:
        result = _search(get_backend(), replace(request, page=1), scope)
    if (result.total == 0 or result.widened) and request.words:
        # Nothing, or nothing with every word: a misspelt word is the likely cause.
        result.suggestion = DatabaseBackend().suggest(request.words)
    return result


def _search(backend, request, scope):
    try:
        return backend.search(request, scope)
    except SearchUnavailable as error:
        logger.warning("Elasticsearch unavailable, answering from the database: %s", error)
        return DatabaseBackend().search(request, scope)


def _resolve(request: SearchRequest) -> tuple[SearchRequest, Scope]:
    """Facet slugs to ids and attribute keys; unknown values, and categories beside their descendants, are dropped."""
    tree = category_tree()
    by_slug = {node.slug: node.id for node in tree.nodes.values()}
    known = tuple(slug for slug in request.categories if slug in by_slug)
    # A category named beside one of its descendants is read as the descendant:
    # values of one facet are OR-ed, so keeping the ancestor would not narrow.
    covered = {ancestor.id for slug in known for ancestor in tree.ancestors(by_slug[slug])}
    categories = tuple(slug for slug in known if by_slug[slug] not in covered)
    brand_ids = dict(Brand.objects.filter(slug__in=request.brands).values_list("slug", "id"))
    brands = tuple(slug for slug in request.brands if slug in brand_ids)
    category_ids = (
        frozenset(i for slug in categories for i in tree.descendant_ids(by_slug[slug])) if categories else None
    )
    facets = attribute_facets()
    in_scope = {i: specs for i, specs in facets.items() if category_ids is None or i in category_ids}
    keys = {spec.slug: spec.key for specs in in_scope.values() for spec in specs}
    attributes = tuple((slug, values) for slug, values in request.attributes if slug in keys)
    scope = Scope(
        category_ids=category_ids,
        brand_ids=frozenset(brand_ids[slug] for slug in brands) if brands else None,
        attributes=tuple((keys[slug], values) for slug, values in attributes),
        facet_pairs=frozenset(f"{spec.key}@{i}" for i, specs in in_scope.items() for spec in specs),
        count_categories=request.category_facet or category_ids is None,
    )
    return replace(request, categories=categories, brands=brands, attributes=attributes), scope
