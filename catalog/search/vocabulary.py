"""What search knows about words: staff synonyms, and the catalog's own word list.

Synonyms are read on every search, so the whole (small) table is cached and
forgotten whenever staff change it. Catalog words come from ``SearchTerm``
with how many products have each: one query per search tells a finished word
from one still being typed, finds typed pairs the catalog writes as one word
("wi fi" → "wifi"), and gives each word's rarity for ranking.
"""
import math

from django.conf import settings
from django.core.cache import cache

from catalog.models import Product, SearchSynonym, SearchTerm

from .analysis import words

SYNONYMS_CACHE_KEY = "catalog:search-synonyms:v1"
CATALOG_SIZE_CACHE_KEY = "catalog:search-size:v1"
POPULAR_SHARE_CACHE_KEY = "catalog:search-popular-share:v1"
# Products with this many reviews have a full-text index of their own on
# PostgreSQL (migration 0008): large match sets are ranked among them.
POPULAR_REVIEWS = 150


def synonyms() -> dict[str, tuple[str, ...]]:
    """Each word or two-word phrase -> the phrases equivalent to it."""
    found = cache.get(SYNONYMS_CACHE_KEY)
    if found is None:
        found = {}
        for synonym in SearchSynonym.objects.all():
            phrases = list(dict.fromkeys(" ".join(words(phrase)) for phrase in synonym.phrases))
            for phrase in phrases:
                found[phrase] = tuple(sorted({*found.get(phrase, ()), *(other for other in phrases if other != phrase)}))
        cache.set(SYNONYMS_CACHE_KEY, found, settings.CATALOG_CATEGORY_TREE_CACHE_SECONDS)
    return found


def forget_synonyms():
    cache.delete(SYNONYMS_CACHE_KEY)


def document_frequencies(candidates) -> dict[str, int]:
    """Products having each of these words, for the words the catalog has."""
    return dict(SearchTerm.objects.filter(word__in=set(candidates)).values_list("word", "products"))


def catalog_size() -> int:
    """Active products, for ``idf``: an hour old at most, which no ranking notices."""
    return max(1, cache.get_or_set(CATALOG_SIZE_CACHE_KEY, Product.objects.filter(is_active=True).count, 3600))


def popular_share() -> float:
    """The share of active products with POPULAR_REVIEWS reviews or more (an hour old at most)."""

    def share():
        active = Product.objects.filter(is_active=True)
        return active.filter(review_count__gte=POPULAR_REVIEWS).count() / max(1, active.count())

    return cache.get_or_set(POPULAR_SHARE_CACHE_KEY, share, 3600)


def idf(frequency: int, size: int) -> float:
    """BM25's inverse document frequency: rare words weigh more than common ones."""
    return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))
