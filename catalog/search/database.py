"""Search in the database: PostgreSQL full text, or SQLite FTS5 on the embedded default.

Both dialects share the filter and facet SQL; they differ in the table read
(PostgreSQL: the narrow ``catalog_product_search`` projection; SQLite:
products joined to FTS5) and in how terms are matched and scored.

Matching (``catalog.search.analysis`` turns the words into terms; the steps
are ``catalog.search.matching``'s, shared with Elasticsearch):

1. products with every term;
2. when that is less than a page (sorted by relevance), products with most
   of them follow (minimum-should-match: three in four terms, then half; of
   two terms, either): one extra word no product has does not hide the
   products that have the rest, and a short list is not left short;
3. when nothing has every term, the page says so, and offers a spelling.

Ranking is by the number of terms matched, then a BM25-like score (each
term's field weight — title, brand, attributes, description — times its
rarity in the catalog), with sales popularity (review count) as a small
boost and the tie-breaker.

Facet counts follow the e-commerce convention: values of one facet are OR-ed,
facets are AND-ed, and a facet's own counts ignore its own selection. All
facets and the total come from one pass over the matching rows.
"""
import hashlib
import itertools
import json
from dataclasses import dataclass, replace
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db import connections, transaction

from amazon_site.core.routing import read_alias

from . import vocabulary
from .analysis import Term
from .matching import POPULARITY_BOOST, query_terms, search_in_steps
from .query import PRICE_BUCKETS, RATING_THRESHOLDS, SearchRequest
from .results import FacetCounts, Scope, SearchResult
from .suggestions import suggest

FACETS = ("category", "brand", "price", "rating", "stock")
# Facets are counted exactly up to this many matches; beyond, in a sample
# scaled up (see _sampled_counts): exact counts would cost O(matches), and
# nobody reads "61,482" differently from "about 61,000".
EXACT_LIMIT = 3_000
SAMPLE_BUCKETS = 256  # catalog_product_search.sample: a hash of the id, 0-255
SAMPLE_TARGET = 1_000  # rows a sample should hold
SAMPLE_MINIMUM = 200  # fewer: the next larger sample is read
RANK_ALL = 4_000  # up to this many matches are ranked in memory
SORT_ALL = 20_000  # up to this many are sorted by price, rating or date in memory
ESTIMATE_LEVEL = 1  # match counts are estimated in the rows with sample < 1: 1 in 256
ESTIMATE_CAP = 2_000
COUNT_LEVEL = 16  # "does this step fill a page?" is answered in the rows with sample < 16
RANK_CANDIDATES = 240  # ten pages
SORT_SQL = {
    "price": "p.price, p.id",
    "-price": "p.price DESC, p.id DESC",
    "rating": "p.rating DESC, p.review_count DESC, p.id",
    "newest": "p.created_at DESC, p.id DESC",
}
# The same orders as expressions no index has, for sorting rows already read.
UNWALKED_SORT_SQL = {
    "price": "p.price + 0, p.id",
    "-price": "p.price + 0 DESC, p.id DESC",
    "rating": "p.rating + 0 DESC, p.review_count DESC, p.id",
    "newest": "p.created_at + interval '0' DESC, p.id DESC",
}
RELEVANCE_SQL = "p.matched DESC, p.rank DESC, p.review_count DESC, p.id"
CHECKED_ON_ROWS = {"price", "rating", "stock"}  # facets whose filters no index answers (see _Postgres.unindexed)


@dataclass(frozen=True)
class Match:
    """A text match in a dialect's SQL: which rows, and how well each matches."""

    condition: str  # rows with at least ``required`` terms
    matched: str  # how many terms a row has
    score: str  # higher is better
    required: int
    terms: int
    strict: str  # rows with every term


class DatabaseBackend:
    name = "database"

    def search(self, request: SearchRequest, scope: Scope) -> SearchResult:
        # A browse page's search reads from a replica when one is usable.
        db = connections[read_alias()]
        dialect = _Postgres(db) if db.vendor == "postgresql" else _Sqlite(db)
        with transaction.atomic(using=db.alias):
            dialect.plan_settings()
            return self._search(dialect, request, scope)

    def _search(self, dialect, request, scope):
        found, weights = query_terms(request.q)
        if not found:
            return self._run(dialect, request, scope, None)

        def run(required):
            return self._run(dialect, request, scope, dialect.match(found, weights, required))

        def count_up_to(required, limit):
            params = {}
            filters = " AND ".join(_filters(dialect, request, scope, params).values())
            source = f"{dialect.source(dialect.match(found, weights, required))} AND {filters}"
            with dialect.db.cursor() as cursor:
                return dialect.count_up_to(cursor, source, params, limit)

        return search_in_steps(request, len(found), run, count_up_to)

    def _run(self, dialect, request, scope, match):
        params = {}
        filters = _filters(dialect, request, scope, params)
        everything = " AND ".join(filters.values())
        # Where no category facet is shown (a category page), the category is
        # no facet to count across: its filter narrows what is read.
        source = dialect.source(match) + ("" if scope.count_categories else f" AND {filters['category']}")
        offset, limit = (request.page - 1) * request.page_size, request.page_size
        relevance = request.effective_sort == "relevance" and match is not None
        order = RELEVANCE_SQL if relevance else SORT_SQL[request.effective_sort]
        ranking = dialect.ranking(match) if relevance else "0 AS matched, NULL AS rank"
        # The facet counts of this match set and filters, if a page of it was
        # asked for lately (another page, another sort): only the page is read.
        counts_key = "catalog:search-counts:v1:" + hashlib.sha256(
            repr((source, filters, sorted(params.items()), sorted(scope.facet_pairs))).encode()
        ).hexdigest()
        with dialect.db.cursor() as cursor:
            known = cache.get(counts_key)
            if known is not None:
                counts, total, estimate = known
                ids = _page_ids(cursor, dialect, source, filters, params, request, scope, match, estimate=estimate)
                return self._result(request, ids, total, counts)
            estimate = dialect.estimate_matches(cursor, source, params, text=match is not None)
            if estimate <= EXACT_LIMIT:
                # One pass over the matches serves the facets and the page: the
                # matching rows are read from the table once.
                counts, total, sampled, ids = dialect.facet_counts(
                    cursor, source, filters, scope, params, limit=EXACT_LIMIT + 1, ranking=ranking,
                    page=(everything, order, limit, offset),
                )
                if sampled <= EXACT_LIMIT:
                    cache.set(counts_key, (counts, total, sampled), settings.SEARCH_RESULTS_CACHE_SECONDS)
                    return self._result(request, ids, total, counts)
                # The planner guessed low (it does for phrases such as
                # "heavy-duty", up to 300 times): a large query after all.
                estimate = max(estimate, sampled)
            counts, total = _sampled_counts(cursor, dialect, source, filters, scope, params, estimate, text=match is not None)
            cache.set(counts_key, (counts, total, estimate), settings.SEARCH_RESULTS_CACHE_SECONDS)
            ids = _page_ids(cursor, dialect, source, filters, params, request, scope, match, estimate=estimate)
        return self._result(request, ids, total, counts)

    def _result(self, request, ids, total, counts):
        # An estimate must never claim fewer results than the page shows.
        offset = (request.page - 1) * request.page_size
        total = max(total, offset + len(ids)) if ids else total
        return SearchResult(request=request, ids=ids, total=total, counts=counts, backend=self.name)

    def suggest(self, words: list[str]) -> str | None:
        return suggest(words)


def _sampled_counts(cursor, dialect, source, filters, scope, params, estimate, *, text):
    """Facet counts of a large match set, from a sample of it scaled up.

    On PostgreSQL the sample is every product whose ``sample`` bucket (a hash
    of its id, 0-255) is below a level, read through a partial index of that
    level: a fixed share of the matches wherever they lie in the table, so
    the counts are unbiased and the work is about SAMPLE_TARGET rows, not
    the matches. A level that finds too few rows (the planner guessed high)
    or too many (low) is replaced by the next one.
    """
    levels = dialect.sample_levels
    position = min(range(len(levels)), key=lambda i: abs(estimate * levels[i] / SAMPLE_BUCKETS - SAMPLE_TARGET))
    step = 0  # once a sample was too large (or too small), only smaller (larger) ones are tried
    while True:
        level = levels[position]
        counts, total, sampled, _ = dialect.facet_counts(
            cursor, f"{source} AND {dialect.sample_condition(level, text=text)}", filters, scope, params,
            limit=EXACT_LIMIT + 1,
        )
        if sampled > EXACT_LIMIT and step >= 0 and position + 1 < len(levels):
            position, step = position + 1, 1
        elif sampled < SAMPLE_MINIMUM and step <= 0 and position > 0:
            position, step = position - 1, -1
        else:
            break
    if level == SAMPLE_BUCKETS and sampled <= EXACT_LIMIT:
        return counts, total  # every match was read: exact
    scale = SAMPLE_BUCKETS / level
    if sampled > EXACT_LIMIT:
        # Even the smallest sample was cut short: scale to the planner's estimate.
        scale = max(estimate, sampled) / sampled
    return counts.scaled(scale), round(total * scale)


def _page_ids(cursor, dialect, source, filters, params, request, scope, match, *, estimate):
    """One page of a large match set, by a plan whose cost is bounded.

    What a plan costs is the rows it reads: the text matches, narrowed by the
    filters an index answers (category, brand, attributes); price, rating
    and stock are checked on rows read. Sorted by price, rating or date, up
    to SORT_ALL of them are read and the page's top rows kept. Ranked by
    relevance, up to RANK_ALL are read and ranked, else the same among the
    popular ones (``vocabulary.POPULAR_REVIEWS`` reviews or more: partial
    indexes of their own) as long as those fill the page, with every product
    that has all the terms when only most are required. Past that, an index
    walk in the sort's order (or by popularity) finds a page within a few
    hundred rows, since matches are then dense. The row count decides, not
    the planner: an index walk for a rare combination ("coffee" of one
    brand, by price) would read the whole index.
    """
    offset, limit = (request.page - 1) * request.page_size, request.page_size
    relevance = request.effective_sort == "relevance" and match is not None
    order = RELEVANCE_SQL if relevance else SORT_SQL[request.effective_sort]
    ranking = dialect.ranking(match) if relevance else "0 AS matched, NULL AS rank"
    everything = " AND ".join(filters.values())
    matching = f"{source} AND {everything}"
    narrowing = [condition for name, condition in filters.items() if name not in CHECKED_ON_ROWS and condition != "TRUE"]
    read = estimate
    if narrowing:
        read = dialect.estimate_matches(cursor, " AND ".join([source, *narrowing]), params, text=match is not None)
    if not relevance and read <= SORT_ALL:
        # Read every match and keep the page's top rows (a top-N sort, no
        # index walk: one in the sort's order is slowest exactly when the
        # matches sit at its far end, soundbars by price among books).
        cursor.execute(
            f"SELECT p.id FROM {matching} ORDER BY {UNWALKED_SORT_SQL[request.effective_sort]} "
            f"LIMIT {limit} OFFSET {offset}",
            params,
        )
        return [row[0] for row in cursor.fetchall()]
    pools = [(read, [matching])]
    if relevance:
        # The fewest popular products expected to fill the page well, else more of them.
        wanted = max(RANK_CANDIDATES, 4 * (offset + limit))
        tiers = sorted(vocabulary.popular_shares().items(), key=lambda tier: -tier[0])
        tiers = [tier for tier in tiers if read * tier[1] >= wanted] + [tier for tier in tiers if read * tier[1] < wanted]
        for reviews, share in tiers:
            popular = [f"{matching} AND p.review_count >= {reviews}"]
            if match.required < match.terms:
                popular.append(f"{dialect.source_strict(match)} AND {everything}")
            pools.append((read * share, popular))
    for number, (expected, parts) in enumerate(pools):
        if expected > RANK_ALL:
            continue
        union = " UNION ".join(
            f"SELECT * FROM (SELECT {SAMPLE_COLUMNS}, {ranking} FROM {part} LIMIT {RANK_ALL + 1}) u{index}"
            for index, part in enumerate(parts)
        )
        cursor.execute(
            f"WITH p AS MATERIALIZED ({union}) SELECT p.id, (SELECT count(*) FROM p) FROM p ORDER BY {order} "
            f"LIMIT {limit} OFFSET {offset}",
            params,
        )
        rows = cursor.fetchall()
        found = rows[0][1] if rows else 0
        # Every match was read; or, of the popular ones, enough to fill the page.
        if found <= RANK_ALL * len(parts) and (number == 0 or found >= offset + limit):
            return [row[0] for row in rows]
    walking = f"{source} AND {' AND '.join(_filters(dialect, request, scope, params, walk=True).values())}"
    if relevance:
        candidates = max(RANK_CANDIDATES, offset + limit)
        walks = [f"SELECT p.id FROM {walking} ORDER BY p.review_count DESC, p.id LIMIT {candidates}"]
        if match.required < match.terms:
            walks.append(f"SELECT p.id FROM {dialect.source_strict(match)} AND {everything} LIMIT {candidates}")
        candidates_sql = " UNION ".join(f"SELECT * FROM ({walk}) c{number}" for number, walk in enumerate(walks))
        cursor.execute(
            f"SELECT p.id FROM (SELECT p.id, p.review_count, {ranking} FROM {source} "
            f"AND p.id IN ({candidates_sql})) p ORDER BY {RELEVANCE_SQL} LIMIT {limit} OFFSET {offset}",
            params,
        )
    else:
        cursor.execute(f"SELECT p.id FROM {walking} ORDER BY {order} LIMIT {limit} OFFSET {offset}", params)
    return [row[0] for row in cursor.fetchall()]


def _filters(dialect, request: SearchRequest, scope: Scope, params, *, walk=False) -> dict[str, str]:
    """One SQL condition per facet ("TRUE" when nothing is selected).

    Price and rating are compared as expressions no index answers
    (``dialect.unindexed``), except for an index ``walk``, whose scan a range
    of the sort's own column bounds ("price up to $25").
    """
    filters = dict.fromkeys(FACETS, "TRUE")
    if scope.category_ids is not None:
        filters["category"] = f"p.category_id IN ({_ints(scope.category_ids)})"
    if scope.brand_ids is not None:
        filters["brand"] = f"p.brand_id IN ({_ints(scope.brand_ids)})"
    unindexed = (lambda column: column) if walk else dialect.unindexed
    price, rating = unindexed("p.price"), unindexed("p.rating")
    prices = []
    if request.price_buckets:
        prices.append("(" + " OR ".join(_bucket_condition(key, price) for key in request.price_buckets) + ")")
    if request.price_min is not None:
        params["price_min"] = request.price_min
        prices.append(f"{price} >= %(price_min)s")
    if request.price_max is not None:
        params["price_max"] = request.price_max
        prices.append(f"{price} <= %(price_max)s")
    if prices:
        filters["price"] = " AND ".join(prices)
    if request.rating_min:
        filters["rating"] = f"{rating} >= {int(request.rating_min)}"
    if request.in_stock:
        filters["stock"] = "p.in_stock"
    for number, (key, values) in enumerate(scope.attributes):
        # Only where the product's category shows that facet, as it is counted:
        # "Red 2" never lists three.
        declaring = {int(pair.rpartition("@")[2]) for pair in scope.facet_pairs if pair.rpartition("@")[0] == key}
        filters[f"attribute:{key}"] = (
            f"({dialect.attribute_filter(key, values, params, f'attribute_{number}')} "
            f"AND p.category_id IN ({_ints(declaring)}))"
        )
    return filters


def _ints(values):
    return ", ".join(str(int(value)) for value in sorted(values)) or "NULL"


def _bucket_condition(key, price="p.price"):
    _, low, high = PRICE_BUCKETS[key]
    parts = []
    if low is not None:
        parts.append(f"{price} >= {Decimal(low)}")
    if high is not None:
        parts.append(f"{price} < {Decimal(high)}")
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


_NULLS = ", ".join(["NULL"] * (5 + len(RATING_THRESHOLDS)))


def _attribute_rows(filters, scope, *, key_sql, value_sql, source, pairs_sql):
    """Attribute facet counts as extra rows ('attribute', "key=value", count, NULL...):
    each value counted under every filter but its own attribute's, and only
    where the product's category shows that attribute as a facet."""
    if not scope.facet_pairs:
        return ""
    selected = [(key, _except(filters, f"attribute:{key}")) for key, _ in scope.attributes]
    condition = " AND ".join(filters.values())
    if selected:
        cases = " ".join(f"WHEN {_literal(key)} THEN {others}" for key, others in selected)
        condition = f"CASE {key_sql} {cases} ELSE {condition} END"
    return (
        f" UNION ALL SELECT 'attribute', {key_sql} || '=' || {value_sql}, count(*) FILTER (WHERE {condition}), {_NULLS} "
        f"FROM {source} WHERE {key_sql} || '@' || p.category_id IN ({pairs_sql}) "
        f"GROUP BY {key_sql}, {value_sql}"
    )


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _page_rows(page):
    """The page's ids as extra rows of the facet statement: ('hit', id, position, NULL...)."""
    condition, order, limit, offset = page
    return (
        f" UNION ALL SELECT 'hit', CAST(h.id AS TEXT), h.position, {_NULLS} FROM "
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
            counts.categories[int(key)] = by_category
        elif kind == "brand" and by_brand:
            counts.brands[int(key)] = by_brand
        elif kind == "price" and by_price and key:
            counts.price_buckets[key] = by_price
        elif kind == "attribute" and by_category:
            name, _, value = key.partition("=")
            counts.attributes.setdefault(name, {})[value] = by_category
        elif kind == "all":
            counts.ratings = dict(zip(RATING_THRESHOLDS, ratings))
            counts.in_stock, total, sampled = in_stock, everything, rows_read
        elif kind == "hit":
            hits.append((by_category, int(key)))
    return counts, total, sampled, [product_id for _, product_id in sorted(hits)]


SAMPLE_COLUMNS = "p.id, p.category_id, p.brand_id, p.price, p.rating, p.review_count, p.in_stock, p.created_at"


def _combinations(items, required):
    """Every way of choosing ``required`` of ``items``: "at least m of n" as an OR of ANDs,
    which a full-text index answers without reading rows."""
    return list(itertools.combinations(items, required))


def _ranking(match):
    # With every term required, every row matches them all: nothing to count.
    matched = str(match.terms) if match.required == match.terms else match.matched
    return f"{matched} AS matched, ({match.score}) * (1 + {POPULARITY_BOOST} * ln(1 + p.review_count)) AS rank"


class _Postgres:
    # Partial indexes of the projection hold the rows with sample < 64, 16, 4
    # and 1 (migration 0009); 256 is every row.
    sample_levels = (SAMPLE_BUCKETS, 64, 16, 4, 1)

    def sample_condition(self, level, *, text):
        """Rows below a sample level: with words, through that level's partial
        full-text index; without (browsing), through the btree on ``sample + 0``
        (a different expression, so that the planner never ANDs that large
        bitmap into a text query)."""
        if level == SAMPLE_BUCKETS:
            return "TRUE"
        return f"p.sample < {level}" if text else f"(p.sample + 0) < {level}"

    def unindexed(self, column):
        """The column as an expression no index answers. Price and rating ranges
        hold a large share of the catalog, and the planner would AND their
        bitmap (60 ms for a quarter of a million rows) into a text match of a
        few thousand rows that it reads anyway; their indexes serve the sorts."""
        return f"({column} + 0)"

    def table(self):
        # The search projection holds active products only (migration 0004).
        return "catalog_product_search"

    def __init__(self, db):
        self.db = db
        self._lexemes = {}

    def plan_settings(self):
        """For this transaction only: never a sequential scan. Every statement here
        has an index to read (full text, a sample, a sort order), and with a
        LIMIT the planner would rather scan the table until it finds enough
        rows, which for a rare combination is the whole table (half a second)."""
        with self.db.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")

    def match(self, query_terms: list[Term], weights: list[float], required: int) -> Match:
        rendered = [f"({query})" for query in self._stemmed([_tsquery(term) for term in query_terms])]
        everything = " & ".join(rendered)
        # "At least m of n" as one index scan per choice of m terms, OR-ed as
        # bitmaps: one tsquery of ORed ANDs made the index walk every entry of
        # a frequent word ("white"), 30 ms against 15.
        condition = " OR ".join(
            f"p.document @@ {_literal(' & '.join(chosen))}::tsquery" for chosen in _combinations(rendered, required)
        )
        # Written out as constants (not joined from a CTE) so that the planner
        # uses the GIN index, and as tsquery values (not to_tsquery() calls,
        # which a row's expressions would parse and stem again for every row).
        matched = " + ".join(f"(p.document @@ {_literal(term)}::tsquery)::int" for term in rendered)
        score = " + ".join(
            f"{weight:.4f} * ts_rank('{{0.1, 0.3, 0.5, 1.0}}', p.document, {_literal(term)}::tsquery)"
            for term, weight in zip(rendered, weights)
        )
        return Match(
            condition=f"({condition})",
            matched=matched,
            score=score,
            required=required,
            terms=len(query_terms),
            strict=f"p.document @@ {_literal(everything)}::tsquery",
        )

    def _stemmed(self, queries):
        """Each term's query with English stemming applied, once per search."""
        missing = [query for query in queries if query not in self._lexemes]
        if missing:
            with self.db.cursor() as cursor:
                cursor.execute(
                    "SELECT q, to_tsquery('english', q)::text FROM unnest(CAST(%s AS text[])) AS q", [missing]
                )
                self._lexemes.update(cursor.fetchall())
        return [self._lexemes[query] for query in queries]

    def source(self, match):
        return f"{self.table()} p WHERE {match.condition if match else 'TRUE'}"

    def source_strict(self, match):
        return f"{self.table()} p WHERE {match.strict}"

    def ranking(self, match):
        return _ranking(match)

    def attribute_filter(self, key, values, params, name):
        params[name] = [f"{key}={value}" for value in values]
        return f"p.attrs && CAST(%({name})s AS text[])"

    def estimate_matches(self, cursor, source, params, *, text=True):
        """Matches counted in the 1-in-256 sample, times 256 (browsing: the planner's estimate).

        The planner multiplies the selectivities of a query's words as if they
        were independent; in a shop they describe the same products
        ("wireless earbuds": it guessed 159 of 6,599), so it guesses far low.
        Counting the sample costs a few hundred rows. Past ESTIMATE_CAP rows
        there (a very broad query) the planner's guess is good enough, as it is
        for filters alone.
        """
        if not text:
            return self._planned(cursor, source, params)
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} AND p.sample < {ESTIMATE_LEVEL} LIMIT {ESTIMATE_CAP}) s",
            params,
        )
        found = cursor.fetchone()[0] * SAMPLE_BUCKETS // ESTIMATE_LEVEL
        if EXACT_LIMIT // 3 <= found <= EXACT_LIMIT * 3:
            # Near the line between one pass and a sample, where a wrong side
            # costs a wasted pass: count again in the sixteen times larger sample.
            return self.count_up_to(cursor, source, params, ESTIMATE_CAP * 16)
        if found < ESTIMATE_CAP * SAMPLE_BUCKETS // ESTIMATE_LEVEL:
            return found
        return max(self._planned(cursor, source, params), found)

    def count_up_to(self, cursor, source, params, limit):
        """About how many rows match, no further than ``limit``: counted in the
        1-in-16 sample. Deciding whether a step fills a page needs no more,
        and a frequent word's index entries are 16 times shorter there: an
        exact count ANDs full lists ("kakaka & pro", 30 ms)."""
        share = SAMPLE_BUCKETS // COUNT_LEVEL
        cursor.execute(
            f"SELECT count(*) FROM (SELECT 1 FROM {source} AND p.sample < {COUNT_LEVEL} "
            f"LIMIT {-(-int(limit) // share)}) c",
            params,
        )
        return cursor.fetchone()[0] * share

    def _planned(self, cursor, source, params):
        cursor.execute(f"EXPLAIN (FORMAT JSON) SELECT 1 FROM {source}", params)
        plan = cursor.fetchone()[0]
        return (json.loads(plan) if isinstance(plan, str) else plan)[0]["Plan"]["Plan Rows"]

    def facet_counts(self, cursor, source, filters, scope, params, *, limit, ranking="0 AS matched, NULL AS rank", page=None):
        params["facet_pairs"] = sorted(scope.facet_pairs)
        attributes = _attribute_rows(
            filters, scope, key_sql="split_part(a.e, '=', 1)", value_sql="substr(a.e, strpos(a.e, '=') + 1)",
            source="p CROSS JOIN LATERAL unnest(p.attrs) AS a(e)",
            pairs_sql="SELECT unnest(CAST(%(facet_pairs)s AS text[]))",
        )
        cursor.execute(
            f"WITH p AS MATERIALIZED (SELECT {SAMPLE_COLUMNS}, p.attrs, {ranking} FROM {source} LIMIT {limit}) SELECT "
            f"CASE WHEN GROUPING(p.category_id) = 0 THEN 'category' WHEN GROUPING(p.brand_id) = 0 THEN 'brand' "
            f"WHEN GROUPING({BUCKET_SQL}) = 0 THEN 'price' ELSE 'all' END AS kind, "
            f"COALESCE(p.category_id::text, p.brand_id::text, {BUCKET_SQL}) AS key, {_facet_columns(filters)} "
            f"FROM p GROUP BY GROUPING SETS ((p.category_id), (p.brand_id), ({BUCKET_SQL}), ())"
            + attributes
            + (_page_rows(page) if page else ""),
            params,
        )
        return _collect(cursor.fetchall())


def _tsquery(term: Term) -> str:
    """A term in to_tsquery syntax; its words are letters and digits only (see analysis)."""
    alternatives = [" <-> ".join(alternative) for alternative in term.alternatives]
    if term.prefix:
        alternatives = [alternatives[0] + ":*"]
    return "(" + " | ".join(alternatives) + ")"


def _fts(term: Term) -> str:
    """A term in FTS5 syntax: quoted phrases (FTS5 reads bare words as operators)."""
    alternatives = ['"' + " ".join(alternative) + '"' for alternative in term.alternatives]
    if term.prefix:
        alternatives = [alternatives[0] + "*"]
    return "(" + " OR ".join(alternatives) + ")"


class _Sqlite:
    # An embedded catalog is small: its facets are counted in full (up to EXACT_LIMIT rows).
    sample_levels = (SAMPLE_BUCKETS,)

    def __init__(self, db):
        self.db = db

    def plan_settings(self):
        pass

    def sample_condition(self, level, *, text):
        return "TRUE"

    def unindexed(self, column):
        return column

    def table(self):
        return "catalog_product"

    def match(self, query_terms: list[Term], weights: list[float], required: int) -> Match:
        rendered = [_fts(term) for term in query_terms]
        everything = " AND ".join(rendered)
        condition = " OR ".join("(" + " AND ".join(chosen) + ")" for chosen in _combinations(rendered, required))
        matched = " + ".join(
            f"(p.id IN (SELECT rowid FROM catalog_product_fts WHERE catalog_product_fts MATCH {_literal(term)}))"
            for term in rendered
        )
        return Match(
            condition=_literal(condition), matched=matched, score="-f.rank", required=required,
            terms=len(query_terms), strict=_literal(everything),
        )

    def source(self, match):
        if not match:
            return "catalog_product p WHERE p.is_active"
        return (
            # bm25 is lower for better matches; negated so that higher is better on both dialects.
            "catalog_product p JOIN (SELECT rowid AS id, bm25(catalog_product_fts, 10.0, 4.0, 2.0, 1.0) AS rank "
            f"FROM catalog_product_fts WHERE catalog_product_fts MATCH {match.condition}) f ON f.id = p.id "
            "WHERE p.is_active"
        )

    def source_strict(self, match):
        return self.source(replace(match, condition=match.strict, required=match.terms))

    def ranking(self, match):
        return _ranking(match)

    def attribute_filter(self, key, values, params, name):
        options = ", ".join(_literal(value) for value in values)
        return f"EXISTS (SELECT 1 FROM json_each(p.attributes) a WHERE a.key = {_literal(key)} AND a.value IN ({options}))"

    def count_up_to(self, cursor, source, params, limit):
        cursor.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} LIMIT {int(limit)}) c", params)
        return cursor.fetchone()[0]

    def estimate_matches(self, cursor, source, params, *, text=True):
        # SQLite has no planner estimate to ask; an embedded store is small enough to count.
        cursor.execute(f"SELECT count(*) FROM {source}", params)
        return cursor.fetchone()[0]

    def facet_counts(self, cursor, source, filters, scope, params, *, limit, ranking="0 AS matched, NULL AS rank", page=None):
        columns = _facet_columns(filters)
        groupings = [("category", "p.category_id"), ("brand", "p.brand_id"), ("price", BUCKET_SQL), ("all", "NULL")]
        attributes = _attribute_rows(
            filters, scope, key_sql="a.key", value_sql="CAST(a.value AS TEXT)", source="p, json_each(p.attributes) a",
            pairs_sql=", ".join(_literal(pair) for pair in sorted(scope.facet_pairs)),
        )
        cursor.execute(
            f"WITH p AS MATERIALIZED (SELECT {SAMPLE_COLUMNS}, p.attributes, {ranking} FROM {source} LIMIT {limit}) "
            + " UNION ALL ".join(
                f"SELECT '{kind}', {expression}, {columns} FROM p GROUP BY {expression}"
                for kind, expression in groupings
            )
            + attributes
            + (_page_rows(page) if page else ""),
            params,
        )
        return _collect(cursor.fetchall())
