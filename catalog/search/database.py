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
# Facets are counted exactly up to this many matches. When the planner
# expects more than BROAD_MATCHES, they are counted in a sample of BROAD_SAMPLE
# rows scaled to its estimate: exact counts of a very broad query would cost
# O(matches) and nobody reads "61,482" differently from "about 61,000".
EXACT_LIMIT = 10_000
BROAD_MATCHES = 20_000
BROAD_SAMPLE = 2_000
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
        relevance = request.effective_sort == "relevance" and match is not None
        with connection.cursor() as cursor:
            estimate = dialect.estimate_matches(cursor, source, params)
            if estimate <= BROAD_MATCHES:
                # One pass over the matches serves the facets and the page: the
                # matching rows are read from the table once.
                order = "p.rank DESC, p.review_count DESC, p.id" if relevance else SORT_SQL[request.effective_sort]
                rank = dialect.rank_expression(match) if relevance else "NULL"
                counts, total, sampled, ids = dialect.facet_counts(
                    cursor, source, filters, params, sample=EXACT_LIMIT + 1, rank=rank, page=(everything, order, limit, offset)
                )
                # More than EXACT_LIMIT rows: the planner guessed low (it does
                # for phrases such as "heavy-duty", up to 300 times), so this is
                # a broad query after all, and the estimate the sample's size.
                estimated = sampled > EXACT_LIMIT
                # A page ranked within the sample stands (a second pass would
                # be planned from the same wrong guess); one sorted by price or
                # date must see every match.
                page_done = relevance or not estimated
            else:
                counts, total, sampled, ids = dialect.facet_counts(cursor, source, filters, params, sample=BROAD_SAMPLE + 1)
                # Fewer rows than the sample size: the planner guessed high and
                # these are all the matches, counted exactly.
                estimated, page_done = sampled > BROAD_SAMPLE, False
            if estimated:
                # Too many matches to count exactly in time: scale the sample up
                # to the planner's estimate of all matches.
                scale = max(estimate, sampled) / sampled
                counts, total = counts.scaled(scale), round(total * scale)
            if not page_done:
                ids = _page_ids(cursor, dialect, source, everything, params, request, match, broad=estimated and total > EXACT_LIMIT)
        # An estimate must never claim fewer results than the page shows.
        total = max(total, offset + len(ids)) if ids else total
        return SearchResult(request=request, ids=ids, total=total, counts=counts, backend=self.name)

    def suggest(self, words: list[str]) -> str | None:
        return suggest(words)


def _page_ids(cursor, dialect, source, everything, params, request, match, *, broad):
    offset, limit = (request.page - 1) * request.page_size, request.page_size
    relevance = request.effective_sort == "relevance" and match is not None
    if relevance and broad:
        # Ranking every match of a broad query costs O(matches): rank the most
        # popular candidates instead (an index scan serves them). Narrow
        # filters keep exact ranking: their few matches are cheap to rank, and
        # walking the popularity index for them would not be.
        candidates = max(RANK_CANDIDATES, offset + limit)
        cursor.execute(
            f"SELECT c.id FROM (SELECT p.id, p.review_count, {dialect.rank_expression(match)} AS rank "
            f"FROM {source} AND {everything} ORDER BY p.review_count DESC, p.id LIMIT {candidates}) c "
            f"ORDER BY c.rank DESC, c.review_count DESC, c.id LIMIT {limit} OFFSET {offset}",
            params,
        )
    else:
        if relevance:
            order = f"{dialect.rank_expression(match)} DESC, p.review_count DESC, p.id"
        else:
            order = SORT_SQL[request.effective_sort]
        cursor.execute(
            f"SELECT p.id FROM {source} AND {everything} ORDER BY {order} LIMIT {limit} OFFSET {offset}", params
        )
    return [row[0] for row in cursor.fetchall()]


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


def _page_rows(page):
    """The page's ids as extra rows of the facet statement: ('hit', id, position, NULL...)."""
    nulls = ", ".join(["NULL"] * (5 + len(RATING_THRESHOLDS)))
    condition, order, limit, offset = page
    return (
        f" UNION ALL SELECT 'hit', CAST(h.id AS TEXT), h.position, {nulls} FROM "
        f"(SELECT p.id, ROW_NUMBER() OVER (ORDER BY {order}) AS position FROM p WHERE {condition} "
        f"ORDER BY {order} LIMIT {limit} OFFSET {offset}) h"
    )


def _collect(rows):
    """Rows of (kind, key, by_category, by_brand, by_price, ratings..., in_stock, total, sampled).

    Returns the facet counts, the total, the rows read and the page's ids.
    """
    counts, total, sampled, hits = FacetCounts(), 0, 0, []
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
        elif kind == "hit":
            hits.append((by_category, int(key)))
    return counts, total, sampled, [product_id for _, product_id in sorted(hits)]


SAMPLE_COLUMNS = "p.id, p.category_id, p.brand_id, p.price, p.rating, p.review_count, p.in_stock, p.created_at"


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

    def rank_expression(self, match):
        """Higher is more relevant; title (A) outweighs brand (B) outweighs description (C)."""
        return f"ts_rank_cd(p.document, {match})"

    def estimate_matches(self, cursor, source, params):
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source}", params)
        plan = cursor.fetchone()[0]
        return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]

    def facet_counts(self, cursor, source, filters, params, *, sample, rank="NULL", page=None):
        cursor.execute(
            f"WITH p AS MATERIALIZED (SELECT {SAMPLE_COLUMNS}, {rank} AS rank FROM {source} LIMIT {sample}) SELECT "
            f"CASE WHEN GROUPING(p.category_id) = 0 THEN 'category' WHEN GROUPING(p.brand_id) = 0 THEN 'brand' "
            f"WHEN GROUPING({BUCKET_SQL}) = 0 THEN 'price' ELSE 'all' END AS kind, "
            f"COALESCE(p.category_id::text, p.brand_id::text, {BUCKET_SQL}) AS key, {_facet_columns(filters)} "
            f"FROM p GROUP BY GROUPING SETS ((p.category_id), (p.brand_id), ({BUCKET_SQL}), ())"
            + (_page_rows(page) if page else ""),
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

    def rank_expression(self, match):
        # bm25 is lower for better matches; negated so that higher is better on both dialects.
        return "-f.rank"

    def estimate_matches(self, cursor, source, params):
        # SQLite has no planner estimate to ask; an embedded store is small enough to count.
        cursor.execute(f"SELECT count(*) FROM {source}", params)
        return cursor.fetchone()[0]

    def facet_counts(self, cursor, source, filters, params, *, sample, rank="NULL", page=None):
        columns = _facet_columns(filters)
        groupings = [("category", "p.category_id"), ("brand", "p.brand_id"), ("price", BUCKET_SQL), ("all", "NULL")]
        cursor.execute(
            f"WITH p AS MATERIALIZED (SELECT {SAMPLE_COLUMNS}, {rank} AS rank FROM {source} LIMIT {sample}) "
            + " UNION ALL ".join(
                f"SELECT '{kind}', {expression}, {columns} FROM p GROUP BY {expression}"
                for kind, expression in groupings
            )
            + (_page_rows(page) if page else ""),
            params,
        )
        return _collect((kind, _key(kind, key), *rest) for kind, key, *rest in cursor.fetchall())


def _key(kind, key):
    return int(key) if kind in ("category", "brand") and key is not None else key
