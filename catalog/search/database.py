"""Search in the database: PostgreSQL full text, or SQLite FTS5 on the embedded default.

Both dialects share the filter and facet SQL; they differ in the table read
(PostgreSQL: the narrow ``catalog_product_search`` projection; SQLite:
products joined to FTS5) and in how text is matched and ranked.

Facet counts follow the e-commerce convention: values of one facet are OR-ed,
facets are AND-ed, and a facet's own counts ignore its own selection. All
facets and the total come from one pass over the matching rows (on PostgreSQL
GROUPING SETS with a FILTER per facet).
"""
import json
import re
from decimal import Decimal

from django.db import connection

from catalog.models import SearchTerm

from .query import PRICE_BUCKETS, RATING_THRESHOLDS, SearchRequest
from .results import FacetCounts, Scope, SearchResult
from .suggestions import suggest

FACETS = ("category", "brand", "price", "rating", "stock")
# Facets are counted exactly up to this many matches; beyond it, from a
# sample of this size scaled to the estimated number of matches.
EXACT_LIMIT = 10_000
RANK_CANDIDATES = 240  # ten pages
SORT_SQL = {
    "price": "p.price, p.id",
    "-price": "p.price DESC, p.id DESC",
    "rating": "p.rating DESC, p.review_count DESC, p.id",
    "newest": "p.created_at DESC, p.id DESC",
}
_PLAIN_LAST_WORD = re.compile(r"(?:^|\s)([^\W_]+)\s*$")


class DatabaseBackend:
    name = "database"

    def search(self, request: SearchRequest, scope: Scope) -> SearchResult:
        dialect = _Postgres() if connection.vendor == "postgresql" else _Sqlite()
        words = request.words
        # The last word is matched as a prefix only while it is not yet a
        # whole catalog word: prefix scans of the index cost several times
        # more than exact ones.
        prefix = bool(words) and not SearchTerm.objects.filter(word=words[-1]).exists()
        result = self._run(dialect, request, scope, words, any_word=False, prefix=prefix)
        if result.total == 0 and len(words) > 1:
            # "Prefer documents with all words": only when none has them all,
            # show those with some, ranked by how many they match.
            widened = self._run(dialect, request, scope, words, any_word=True, prefix=prefix)
            if widened.total:
                widened.widened = True
                return widened
        return result

    def _run(self, dialect, request, scope, words, *, any_word, prefix):
        params = {}
        match = dialect.match(request.q, words, any_word=any_word, prefix=prefix, params=params) if words else None
        filters = _filters(request, scope, params)
        everything = " AND ".join(filters.values())
        source = f"{dialect.from_clause(match)} WHERE {dialect.condition(match)}"
        offset, limit = (request.page - 1) * request.page_size, request.page_size
        with connection.cursor() as cursor:
            counts, total, sampled = dialect.facet_counts(cursor, source, filters, params)
            if sampled > EXACT_LIMIT:
                # Too many matches to count exactly in time: scale the sample
                # up to the planner's estimate of all matches.
                scale = max(dialect.estimate_matches(cursor, source, params), sampled) / sampled
                counts, total = counts.scaled(scale), round(total * scale)
            sort = request.effective_sort
            if sort == "relevance" and match and total > EXACT_LIMIT:
                # Ranking every match of a broad query costs O(matches): rank
                # the most popular candidates instead (an index scan serves
                # them). Narrow filters keep exact ranking: their few matches
                # are cheap to rank, and walking the popularity index for them
                # would not be.
                candidates = max(RANK_CANDIDATES, offset + limit)
                cursor.execute(
                    f"SELECT c.id FROM (SELECT p.id, p.review_count, {dialect.rank_source()} FROM {source} "
                    f"AND {everything} ORDER BY p.review_count DESC, p.id LIMIT {candidates}) c "
                    f"ORDER BY {dialect.candidate_rank_order(match)} LIMIT {limit} OFFSET {offset}",
                    params,
                )
            else:
                order = dialect.rank_order(match) if sort == "relevance" and match else SORT_SQL[sort]
                cursor.execute(
                    f"SELECT p.id FROM {source} AND {everything} ORDER BY {order} LIMIT {limit} OFFSET {offset}",
                    params,
                )
            ids = [row[0] for row in cursor.fetchall()]
        # An estimate must never claim fewer results than the page shows.
        total = max(total, offset + len(ids)) if ids else total
        return SearchResult(request=request, ids=ids, total=total, counts=counts, backend=self.name)

    def suggest(self, words: list[str]) -> str | None:
        return suggest(words)

    def index(self, product_ids):
        """Nothing to do: database triggers keep the search data current."""

    def remove(self, product_ids):
        """Nothing to do: database triggers keep the search data current."""


def _filters(request: SearchRequest, scope: Scope, params) -> dict[str, str]:
    """One SQL condition per facet ("TRUE" when nothing is selected)."""
    filters = dict.fromkeys(FACETS, "TRUE")
    if scope.category_ids is not None:
        filters["category"] = f"p.category_id IN ({_ints(scope.category_ids)})"
    if scope.brand_ids is not None:
        filters["brand"] = f"p.brand_id IN ({_ints(scope.brand_ids)})"
    price = []
    if request.price_buckets:
        price.append("(" + " OR ".join(_bucket_condition(key) for key in request.price_buckets) + ")")
    if request.price_min is not None:
        params["price_min"] = request.price_min
        price.append("p.price >= %(price_min)s")
    if request.price_max is not None:
        params["price_max"] = request.price_max
        price.append("p.price <= %(price_max)s")
    if price:
        filters["price"] = " AND ".join(price)
    if request.rating_min:
        filters["rating"] = f"p.rating >= {int(request.rating_min)}"
    if request.in_stock:
        filters["stock"] = "p.in_stock"
    return filters


def _ints(values):
    return ", ".join(str(int(value)) for value in sorted(values)) or "NULL"


def _bucket_condition(key):
    _, low, high = PRICE_BUCKETS[key]
    parts = []
    if low is not None:
        parts.append(f"p.price >= {Decimal(low)}")
    if high is not None:
        parts.append(f"p.price < {Decimal(high)}")
    return "(" + " AND ".join(parts) + ")"


BUCKET_SQL = "CASE " + " ".join(f"WHEN {_bucket_condition(key)} THEN '{key}'" for key in PRICE_BUCKETS) + " END"


def _except(filters, facet):
    return " AND ".join(condition for name, condition in filters.items() if name != facet)


def _facet_columns(filters):
    everything_but = {facet: _except(filters, facet) for facet in FACETS}
    rating = [
        f"count(*) FILTER (WHERE {everything_but['rating']} AND p.rating >= {threshold}) AS rating_{threshold}"
        for threshold in RATING_THRESHOLDS
    ]
    return ", ".join(
        [
            f"count(*) FILTER (WHERE {everything_but['category']}) AS by_category",
            f"count(*) FILTER (WHERE {everything_but['brand']}) AS by_brand",
            f"count(*) FILTER (WHERE {everything_but['price']}) AS by_price",
            *rating,
            f"count(*) FILTER (WHERE {everything_but['stock']} AND p.in_stock) AS in_stock",
            f"count(*) FILTER (WHERE {' AND '.join(filters.values())}) AS total",
            "count(*) AS sampled",
        ]
    )


def _collect(rows):
    """Rows of (kind, key, by_category, by_brand, by_price, ratings..., in_stock, total, sampled)."""
    counts, total, sampled = FacetCounts(), 0, 0
    for kind, key, by_category, by_brand, by_price, *rest in rows:
        ratings, (in_stock, everything, rows_read) = rest[: len(RATING_THRESHOLDS)], rest[len(RATING_THRESHOLDS) :]
        if kind == "category" and by_category:
            counts.categories[key] = by_category
        elif kind == "brand" and by_brand:
            counts.brands[key] = by_brand
        elif kind == "price" and by_price and key:
            counts.price_buckets[key] = by_price
        elif kind == "all":
            counts.ratings = dict(zip(RATING_THRESHOLDS, ratings))
            counts.in_stock, total, sampled = in_stock, everything, rows_read
    return counts, total, sampled


SAMPLE_COLUMNS = "p.category_id, p.brand_id, p.price, p.rating, p.in_stock"


class _Postgres:
    def match(self, q, words, *, any_word, prefix, params):
        if any_word:
            params["tsquery"] = " | ".join(words[:-1] + [f"{words[-1]}:*" if prefix else words[-1]])
            return "to_tsquery('english', %(tsquery)s)"
        last = _PLAIN_LAST_WORD.search(q)
        if not prefix or not last or '"' in q:
            params["websearch"] = q
            return "websearch_to_tsquery('english', %(websearch)s)"
        # websearch syntax ("phrases", -exclusions) for the words typed, and
        # prefix matching for the word still being typed.
        params["websearch"] = q[: last.start(1)]
        params["prefix"] = f"{last.group(1).lower()}:*"
        return "(websearch_to_tsquery('english', %(websearch)s) && to_tsquery('english', %(prefix)s))"

    def from_clause(self, match):
        # The search projection holds active products only (migration 0004).
        return "catalog_product_search p"

    def condition(self, match):
        # The tsquery is written out (not joined from a CTE) so the planner
        # sees a constant and uses the GIN index.
        return f"p.document @@ {match}" if match else "TRUE"

    def rank_order(self, match):
        return f"ts_rank_cd(p.document, {match}) DESC, p.review_count DESC, p.id"

    def rank_source(self):
        return "p.document"

    def candidate_rank_order(self, match):
        return f"ts_rank_cd(c.document, {match}) DESC, c.review_count DESC, c.id"

    def estimate_matches(self, cursor, source, params):
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source}", params)
        plan = cursor.fetchone()[0]
        return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]

    def facet_counts(self, cursor, source, filters, params):
        cursor.execute(
            f"WITH p AS (SELECT {SAMPLE_COLUMNS} FROM {source} LIMIT {EXACT_LIMIT + 1}) SELECT "
            f"CASE WHEN GROUPING(p.category_id) = 0 THEN 'category' WHEN GROUPING(p.brand_id) = 0 THEN 'brand' "
            f"WHEN GROUPING({BUCKET_SQL}) = 0 THEN 'price' ELSE 'all' END AS kind, "
            f"COALESCE(p.category_id::text, p.brand_id::text, {BUCKET_SQL}) AS key, {_facet_columns(filters)} "
            f"FROM p GROUP BY GROUPING SETS ((p.category_id), (p.brand_id), ({BUCKET_SQL}), ())",
            params,
        )
        return _collect((kind, _key(kind, key), *rest) for kind, key, *rest in cursor.fetchall())


class _Sqlite:
    def match(self, q, words, *, any_word, prefix, params):
        quoted = [f'"{word}"' for word in words]
        if prefix:
            quoted[-1] += "*"
        params["fts"] = (" OR " if any_word else " ").join(quoted)
        return "%(fts)s"

    def condition(self, match):
        return "p.is_active"

    def from_clause(self, match):
        if not match:
            return "catalog_product p"
        return (
            "catalog_product p JOIN (SELECT rowid AS id, bm25(catalog_product_fts, 10.0, 4.0, 1.0) AS rank "
            f"FROM catalog_product_fts WHERE catalog_product_fts MATCH {match}) f ON f.id = p.id"
        )

    def rank_order(self, match):
        return "f.rank, p.review_count DESC, p.id"

    def rank_source(self):
        return "f.rank"

    def candidate_rank_order(self, match):
        return "c.rank, c.review_count DESC, c.id"

    def estimate_matches(self, cursor, source, params):
        cursor.execute(f"SELECT count(*) FROM {source}", params)
        return cursor.fetchone()[0]

    def facet_counts(self, cursor, source, filters, params):
        columns = _facet_columns(filters)
        groupings = [("category", "p.category_id"), ("brand", "p.brand_id"), ("price", BUCKET_SQL), ("all", "NULL")]
        cursor.execute(
            f"WITH p AS (SELECT {SAMPLE_COLUMNS} FROM {source} LIMIT {EXACT_LIMIT + 1}) "
            + " UNION ALL ".join(
                f"SELECT '{kind}', {expression}, {columns} FROM p GROUP BY {expression}"
                for kind, expression in groupings
            ),
            params,
        )
        return _collect(cursor.fetchall())


def _key(kind, key):
    return int(key) if kind in ("category", "brand") and key is not None else key
