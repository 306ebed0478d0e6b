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
from django.db.models import Count, Q

from catalog.models import Product, SearchSynonym, SearchTerm

from .analysis import words

SYNONYMS_CACHE_KEY = "catalog:search-synonyms:v1"
SEARCH_TERM_CACHE_KEY = "catalog:search-term:v1:{}"
CATALOG_SIZE_CACHE_KEY = "catalog:search-size:v1"
POPULAR_SHARE_CACHE_KEY = "catalog:search-popular-share:v2"
# Products with this many reviews or more have full-text indexes of their own
# on PostgreSQL (migration 0009): large match sets are ranked among them.
POPULAR_REVIEWS = (150, 400)


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
    """Products having each of these words, for the words the catalog has.

    Every search asks; the answers are cached per word (absent words as 0)
    for SEARCH_TERMS_CACHE_SECONDS, so a rebuilt word list shows within that.
    """
    keys = {word: SEARCH_TERM_CACHE_KEY.format(word) for word in set(candidates)}
    cached = cache.get_many(list(keys.values()))
    found = {word: cached[key] for word, key in keys.items() if key in cached}
    missing = [word for word in keys if word not in found]
    if missing:
        rows = dict(SearchTerm.objects.filter(word__in=missing).values_list("word", "products"))
        cache.set_many({keys[word]: rows.get(word, 0) for word in missing}, settings.SEARCH_TERMS_CACHE_SECONDS)
        found.update(rows)
    return {word: products for word, products in found.items() if products}


def catalog_size() -> int:
    """Active products, for ``idf``: an hour old at most, which no ranking notices."""
    return max(1, cache.get_or_set(CATALOG_SIZE_CACHE_KEY, Product.objects.filter(is_active=True).count, 3600))


def popular_shares() -> dict[int, float]:
    """For each of POPULAR_REVIEWS, the share of active products with that many
    reviews or more (an hour old at most)."""

    def shares():
        active = Product.objects.filter(is_active=True)
        counts = active.aggregate(
            everything=Count("pk"), **{f"at_{reviews}": Count("pk", filter=Q(review_count__gte=reviews)) for reviews in POPULAR_REVIEWS}
        )
        return {reviews: counts[f"at_{reviews}"] / max(1, counts["everything"]) for reviews in POPULAR_REVIEWS}

    return cache.get_or_set(POPULAR_SHARE_CACHE_KEY, shares, 3600)


def idf(frequency: int, size: int) -> float:
    """BM25's inverse document frequency: rare words weigh more than common ones."""
    return math.log(1 + (size - frequency + 0.5) / (frequency + 0.5))
