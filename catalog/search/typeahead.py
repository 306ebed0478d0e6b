"""Type-ahead for the header's search box: categories, brands and products whose
words begin with the typed words ("wire ear" → "Wireless Earbuds"), most popular first.

Per keystroke nothing scans the catalog: completions come from
``TypeaheadEntry``, a table rebuilt in one set-based pass (``refresh_typeahead``,
nightly and after seeding) with each entry's rank of popularity as its key.
It holds every category and brand with active products, and the
CATALOG_TYPEAHEAD_PRODUCTS most reviewed active products: only eight are
shown, so a less reviewed product would be offered only for words that almost
nothing else has, and the search itself (Enter) still finds it.

On PostgreSQL one statement answers, in two steps:

- read the first SCAN_ROWS products in rank order and stop at the eighth
  match: enough whenever the words are common together (a share of 8 /
  SCAN_ROWS of the entries or more), which short prefixes are;
- only if that found fewer, ask the full-text index for the entries holding
  all the words (a prefix query per word, intersected in the index) and sort
  the few it finds: the words are then rare together, so few rows are read.

The bound on products bounds the second step too: its index lists and its
matches grow with the table. Answers are cached a short while per normalised
query, so a query typed again (backspace, another shopper) costs a cache read.
"""
import hashlib
from collections import Counter
from dataclasses import asdict, dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections, transaction
from django.db.models import Count, F, Q, Window
from django.db.models.functions import RowNumber
from django.urls import reverse
from django.utils.http import urlencode

from amazon_site.core.bulk import lift_statement_timeout
from amazon_site.core.routing import read_alias

from catalog.models import Brand, Category, Product, TypeaheadEntry

from .query import SearchRequest, words_of

LIMIT = 8
OTHER_KINDS_FIRST = 3  # categories and brands shown before products, when products fill the rest
MIN_QUERY_LENGTH = 2
CACHE_SECONDS = 60
SCAN_ROWS = 2_000  # the most popular products read in rank order before asking the index
_CACHE_KEY = "catalog:typeahead:v1:{}"
Kind = TypeaheadEntry.Kind


@dataclass(frozen=True)
class Suggestion:
    kind: str
    label: str
    url: str


@dataclass(frozen=True)
class Completions:
    query: str  # as read: NULs dropped, spaces collapsed, trimmed to MAX_QUERY_LENGTH
    suggestions: list[Suggestion]


def complete(q: str) -> Completions:
    """Up to LIMIT completions of ``q``; a query shorter than two characters gets none."""
    request = SearchRequest.from_params({"q": [q]})
    words = request.words
    key = " ".join(words)
    if len(key) < MIN_QUERY_LENGTH:
        return Completions(request.q, [])
    cache_key = _CACHE_KEY.format(hashlib.sha1(key.encode()).hexdigest())
    cached = cache.get(cache_key)
    if cached is None:
        cached = [asdict(suggestion) for suggestion in _mix(_lookup(words))]
        cache.set(cache_key, cached, CACHE_SECONDS)
    return Completions(request.q, [Suggestion(**suggestion) for suggestion in cached])


def _lookup(words: list[str]) -> list[tuple]:
    """(rank, kind, label, target_id, slug): up to LIMIT matches of each kind, by rank (some twice)."""
    db = connections[read_alias()]
    if db.vendor == "postgresql":
        sql, params = _postgres_lookup(words)
        with db.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()
    # The embedded default's catalog is small: a plain filter is quick enough.
    matches = TypeaheadEntry.objects.filter(*(Q(words__contains=f" {word}") for word in words))
    ranked = matches.annotate(place=Window(RowNumber(), partition_by=[F("kind")], order_by=F("rank").asc()))
    return list(ranked.filter(place__lte=LIMIT).values_list("rank", "kind", "label", "target_id", "slug"))


def _postgres_lookup(words):
    # Words are runs of letters and digits (query._WORD): they hold no LIKE
    # wildcard, backslash or tsquery operator, so they go into patterns as they are.
    likes = " AND ".join(["e.words LIKE %s"] * len(words))
    like_params = [f"% {word}%" for word in words]
    columns = "e.rank, e.kind, e.label, e.target_id, e.slug"
    common = (
        f"SELECT {columns} FROM (SELECT * FROM catalog_typeaheadentry WHERE kind = 'product' "
        f"ORDER BY rank LIMIT {SCAN_ROWS}) AS e WHERE {likes} ORDER BY e.rank LIMIT {LIMIT}"
    )
    # Only when the scan found too few; "rank + 0": sort what the index found, never walk the rank index.
    rare = (
        f"(SELECT {columns} FROM catalog_typeaheadentry e WHERE (SELECT count(*) FROM common) < {LIMIT} "
        f"AND to_tsvector('simple', e.words) @@ to_tsquery('simple', %s) AND e.kind = 'product' "
        f"ORDER BY e.rank + 0 LIMIT {LIMIT})"
    )
    others = [
        f"(SELECT {columns} FROM catalog_typeaheadentry e WHERE e.kind = '{kind}' AND {likes} "
        f"ORDER BY e.rank LIMIT {LIMIT})"
        for kind in (Kind.CATEGORY, Kind.BRAND)
    ]
    sql = f"WITH common AS MATERIALIZED ({common}) " + " UNION ALL ".join(["SELECT * FROM common", rare, *others])
    params = like_params + [" & ".join(f"{word}:*" for word in words)] + like_params * len(others)
    return sql, params


def _mix(rows) -> list[Suggestion]:
    """Categories and brands first (up to OTHER_KINDS_FIRST, more if products are few), then products."""
    rows = sorted(dict((row[0], row) for row in rows).values())  # by rank, each once
    others = [row for row in rows if row[1] != Kind.PRODUCT]
    products = [row for row in rows if row[1] == Kind.PRODUCT]
    shown_products = min(len(products), LIMIT - min(len(others), OTHER_KINDS_FIRST))
    shown_others = min(len(others), LIMIT - shown_products)
    return [_suggestion(*row[1:]) for row in others[:shown_others] + products[:shown_products]]


def _suggestion(kind, label, target_id, slug) -> Suggestion:
    if kind == Kind.PRODUCT:
        url = Product(pk=target_id, slug=slug).get_absolute_url()
    elif kind == Kind.BRAND:
        url = f"{reverse('search')}?{urlencode({'brand': slug})}"
    else:
        url = reverse("category", args=[slug])
    return Suggestion(kind, label, url)


def refresh_typeahead() -> int:
    """Rebuild the entries from the catalog; returns how many there are.

    Readers keep the previous entries until the rebuild commits (rows are
    deleted, never truncated: TRUNCATE would lock readers out meanwhile).
    Cached answers may describe the previous entries for up to CACHE_SECONDS.
    """
    if connection.vendor != "postgresql":
        return _rebuild_in_python()
    count = _rebuild()
    if not connection.in_atomic_block:  # VACUUM cannot run in a transaction (a test's)
        with connection.cursor() as cursor:
            # The previous entries out of the indexes now, not at autovacuum's next turn.
            lift_statement_timeout(cursor)
            try:
                cursor.execute("VACUUM catalog_typeaheadentry")
            finally:
                cursor.execute("RESET statement_timeout")
    return count


@transaction.atomic
def _rebuild() -> int:
    with connection.cursor() as cursor:
        # A million products outlast the request-sized DB_STATEMENT_TIMEOUT_MS (this transaction only).
        cursor.execute("SET LOCAL statement_timeout = 0")
        cursor.execute("DELETE FROM catalog_typeaheadentry")
        cursor.execute(
            "WITH RECURSIVE below (ancestor_id, id) AS ("
            "  SELECT id, id FROM catalog_category"
            "  UNION ALL SELECT below.ancestor_id, c.id FROM below JOIN catalog_category c ON c.parent_id = below.id"
            "), per_category AS ("
            "  SELECT category_id, count(*) AS n FROM catalog_product WHERE is_active GROUP BY category_id"
            "), per_brand AS ("
            "  SELECT brand_id, count(*) AS n FROM catalog_product WHERE is_active GROUP BY brand_id"
            "), entries (kind, label, target_id, slug, popularity) AS ("
            "  SELECT 'category', c.name, c.id, c.slug, sum(per_category.n) FROM catalog_category c"
            "  JOIN below ON below.ancestor_id = c.id JOIN per_category ON per_category.category_id = below.id"
            "  GROUP BY c.id"
            "  UNION ALL SELECT 'brand', b.name, b.id, b.slug, per_brand.n FROM catalog_brand b"
            "  JOIN per_brand ON per_brand.brand_id = b.id"
            "  UNION ALL (SELECT 'product', title, id, slug, review_count FROM catalog_product WHERE is_active"
            "  ORDER BY review_count DESC, title, id LIMIT %s)"
            ") "
            "INSERT INTO catalog_typeaheadentry (rank, kind, label, target_id, slug, popularity, words) "
            "SELECT row_number() OVER (ORDER BY kind = 'product', popularity DESC, label, target_id), "
            "  kind, label, target_id, slug, popularity,"
            "  ' ' || btrim(regexp_replace(lower(label), '[^[:alnum:]]+', ' ', 'g')) "
            "FROM entries ORDER BY 1",  # stored in rank order: the scan by rank reads few pages
            [settings.CATALOG_TYPEAHEAD_PRODUCTS],
        )
        count = cursor.rowcount
        cursor.execute("ANALYZE catalog_typeaheadentry")
    return count


@transaction.atomic
def _rebuild_in_python() -> int:
    TypeaheadEntry.objects.all().delete()
    active = Product.objects.filter(is_active=True)
    per_brand = dict(active.values("brand_id").annotate(n=Count("id")).values_list("brand_id", "n"))
    per_category = active.values("category_id").annotate(n=Count("id")).values_list("category_id", "n")
    categories = list(Category.objects.values_list("id", "name", "slug", "parent_id"))
    parents = {category_id: parent_id for category_id, _, _, parent_id in categories}
    below = Counter()  # active products in a category and its descendants
    for category_id, n in per_category:
        while category_id is not None:
            below[category_id] += n
            category_id = parents[category_id]
    entries = [(Kind.CATEGORY, name, pk, slug, below[pk]) for pk, name, slug, _ in categories if below[pk]]
    entries += [
        (Kind.BRAND, name, pk, slug, per_brand[pk])
        for pk, name, slug in Brand.objects.values_list("id", "name", "slug")
        if pk in per_brand
    ]
    most_reviewed = active.order_by("-review_count", "title", "id")[: settings.CATALOG_TYPEAHEAD_PRODUCTS]
    entries += [
        (Kind.PRODUCT, title, pk, slug, reviews)
        for pk, title, slug, reviews in most_reviewed.values_list("id", "title", "slug", "review_count")
    ]
    entries.sort(key=lambda entry: (entry[0] == Kind.PRODUCT, -entry[4], entry[1], entry[2]))
    TypeaheadEntry.objects.bulk_create(
        (
            TypeaheadEntry(
                rank=rank, kind=kind, label=label, target_id=pk, slug=slug, popularity=popularity,
                words="".join(f" {word}" for word in words_of(label)),
            )
            for rank, (kind, label, pk, slug, popularity) in enumerate(entries, start=1)
        ),
        batch_size=1000,
    )
    return len(entries)
