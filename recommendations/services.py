"""Writes of recommendations: the nightly computation and the cache it fills.

The lists are computed set-based, in a fixed number of SQL statements whatever
the catalog size (a query per product would never finish at 100M products):

1. ``baskets``: the distinct products of every paid order in the window, with
   the order's size and weight (its age), into a scratch table (one pass over
   order items).
2. ``pairs``: per product its baskets, its shares of what is added (overall
   and per basket size) and its plain count; per pair of products bought
   together how often and how much (a self-join of the scratch table within
   orders), keeping pairs with ``co >= min_co_count``.
3. ``lists``: confidence and score, the top ``list_length`` per product by a
   window function, inserted straight into the table (INSERT … SELECT); and
   every product's shares (``Popularity``).
4. ``bestsellers``: the most bought products of every category (with its
   descendants) and of the whole store, for products nobody bought yet.

The rules and the formulas come from ``scoring``, shared with the offline
evaluation. All of it is written as a new run in one transaction that also
makes it the current run; then the cache is filled and older runs deleted.
"""
import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from datetime import timedelta
from itertools import groupby
from operator import itemgetter

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone

from catalog.models import Category, Product
from orders.selectors import paid_items_source

from . import selectors
from .models import CategoryBestseller, Popularity, Recommendation, Run
from .scoring import LIST_SCORE_SQL, QUANTISED_SQL, SIZES, WEIGHT_SQL, Rules

logger = logging.getLogger(__name__)

STEPS = ("baskets", "pairs", "lists", "bestsellers", "publish", "cache", "cleanup")
CACHE_BATCH = 1000
FILL_RANGE = 20_000  # product ids whose lists are read into the cache per statement
# Any fixed number: the PostgreSQL advisory lock that keeps two runs from overlapping.
ADVISORY_LOCK = 7_426_001


def compute_recommendations(*, progress: Callable[[str], None] | None = None) -> Run | None:
    """Compute every list and publish them as the current run; None if a run is already going."""
    rules = Rules.from_settings()
    timer = _Timer(progress)
    with _exclusive() as acquired:
        if not acquired:
            logger.info("Recommendations are already being computed; this run is skipped.")
            return None
        with transaction.atomic():
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config('work_mem', %s, true)", [settings.RECOMMENDATIONS_WORK_MEM])
                    # The nightly job outlasts the request-sized DB_STATEMENT_TIMEOUT_MS
                    # (SET LOCAL: for this transaction only).
                    cursor.execute("SET LOCAL statement_timeout = 0")
            run = Run.objects.create()
            since = run.started_at - timedelta(days=settings.RECOMMENDATIONS_WINDOW_DAYS)
            with timer.step("baskets"):
                run.baskets, run.skipped_orders = _collect_baskets(run.started_at, since, rules)
            with timer.step("pairs"):
                run.pairs = _count_pairs(rules)
            with timer.step("lists"):
                run.products, run.prior = _write_lists(run, rules)
            with timer.step("bestsellers"):
                run.bestsellers = _write_bestsellers(run, rules)
            for table in ("recs_pair", "recs_count", "recs_basket"):
                _execute(f"DROP TABLE {table}")
            with timer.step("publish"):
                # The planner has never seen this run's id: without fresh
                # statistics it takes it for one row, and joins its lists
                # (the cache fill, readers' misses) by walking the whole run per row.
                _analyze(Recommendation._meta.db_table, Popularity._meta.db_table, CategoryBestseller._meta.db_table)
                previous = _publish(run)
        with timer.step("cache"):
            fill_cache(run, previous)
        with timer.step("cleanup"):
            _delete_old_runs()
    run.timings = timer.timings
    Run.objects.filter(pk=run.pk).update(timings=run.timings)
    return run


class _Timer:
    def __init__(self, progress):
        self.progress = progress
        self.timings = {}

    @contextmanager
    def step(self, name):
        started = time.perf_counter()
        yield
        self.timings[name] = round(time.perf_counter() - started, 3)
        if self.progress:
            self.progress(name)


@contextmanager
def _exclusive():
    """One run at a time on PostgreSQL (beat and a manual command could overlap).

    A session lock rather than a transaction one: it also covers filling the
    cache and deleting old runs, after the commit. A crashed process's
    connection closes and the lock goes with it. SQLite serialises writers anyway.
    """
    if connection.vendor != "postgresql":
        yield True
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [ADVISORY_LOCK])
        acquired = cursor.fetchone()[0]
    try:
        yield acquired
    finally:
        if acquired:
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_unlock(%s)", [ADVISORY_LOCK])


def _execute(sql, params=()):
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone() if cursor.description else None


def _analyze(*tables):
    # Autovacuum never analyzes temporary tables; without statistics the
    # planner guesses the joins below badly.
    if connection.vendor == "postgresql":
        for table in tables:
            _execute(f"ANALYZE {table}")


def _collect_baskets(now, since, rules) -> tuple[int, int]:
    """Scratch table of (order, product, order size, order weight); returns (baskets used, orders over the cap).

    Paid means what ``orders.models.PAID_STATUSES`` says (paid and kept):
    pending orders may never be paid, cancelled ones (payment failed, or the
    shopper changed their mind) were not bought, and returned ones were bought
    but not kept, a poor reason to suggest the pair to someone else.
    """
    source = paid_items_source()
    statuses = ", ".join(["%s"] * len(source.paid_statuses))
    age = (
        "CAST(EXTRACT(EPOCH FROM (CAST(%s AS TIMESTAMPTZ) - created_at)) AS DOUBLE PRECISION)"
        if connection.vendor == "postgresql"
        # Django's own SQLite function for datetime differences, in microseconds.
        else "(django_timestamp_diff(%s, created_at) / CAST(1000000 AS DOUBLE PRECISION))"
    )
    _execute(
        f"""
        CREATE TEMP TABLE recs_basket AS
        SELECT order_id, product_id,
               COUNT(*) OVER (PARTITION BY order_id) AS size,
               ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY product_id) AS position,
               {WEIGHT_SQL.format(age_seconds=age, half_life_days="%s")} AS weight
        FROM (
            SELECT DISTINCT item.order_id, item.product_id, o.created_at
            FROM {source.item_table} item
            JOIN {source.order_table} o ON o.id = item.order_id
            WHERE o.status IN ({statuses}) AND o.created_at >= %s AND item.product_id IS NOT NULL
        ) items
        """,
        [now, float(rules.half_life_days), *source.paid_statuses, since],
    )
    _analyze("recs_basket")
    used, skipped = _execute(
        "SELECT COALESCE(SUM(CASE WHEN size <= %s THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN size > %s THEN 1 ELSE 0 END), 0) FROM recs_basket WHERE position = 1",
        [rules.max_order_items, rules.max_order_items],
    )
    return used, skipped


def _bucket_sql(size):
    """Rows of baskets in ``scoring.SIZES``' bucket ``size`` (the last: that many or more)."""
    return f"size >= {size}" if size == SIZES[-1] else f"size = {size}"


def _count_pairs(rules) -> int:
    """Scratch tables ``recs_count`` (a product's count, baskets and shares) and
    ``recs_pair`` (a < b, co, together); returns the pairs kept."""
    whole = QUANTISED_SQL.format(value="weight")
    part = QUANTISED_SQL.format(value="weight / size")
    multi = "size BETWEEN 2 AND %(cap)s"

    def summed(value, condition=""):
        return f"SUM(CASE WHEN {multi}{condition} THEN {value} ELSE 0 END)"

    totals = ", ".join(
        [f"{summed(whole)} AS total"] + [f"{summed(whole, f' AND {_bucket_sql(k)}')} AS total_{k}" for k in SIZES]
    )
    sums = ", ".join(
        [f"{summed(whole)} AS baskets", f"{summed(part)} AS share_sum"]
        + [f"{summed(part, f' AND {_bucket_sql(k)}')} AS share_sum_{k}" for k in SIZES]
    )
    # The formulas of scoring.Shares and scoring.size_share; NULL for a product
    # only ever bought alone (it has a count, no share).
    share = "(s.share_sum / t.total)"
    shares = ", ".join(
        [f"CASE WHEN s.baskets > 0 THEN {share} END AS share"]
        + [f"CASE WHEN s.baskets > 0 THEN {share} * (s.share_sum_{k} + %(m)s) / ({share} * t.total_{k} + %(m)s) "
           f"END AS share_{k}"
           for k in SIZES]
    )
    params = {"cap": rules.max_order_items, "m": float(rules.shrinkage), "min_co": rules.min_co_count}
    _execute(
        f"""
        CREATE TEMP TABLE recs_count AS
        WITH t AS (SELECT {totals} FROM recs_basket WHERE position = 1),
             s AS (SELECT product_id, COUNT(*) AS n, {sums} FROM recs_basket WHERE size <= %(cap)s GROUP BY product_id)
        SELECT s.product_id, s.n, s.baskets, {shares}
        FROM s CROSS JOIN t
        """,
        params,
    )
    # Each unordered pair once (a < b): half the rows of counting both directions.
    _execute(
        f"""
        CREATE TEMP TABLE recs_pair AS
        SELECT a.product_id AS a, b.product_id AS b, COUNT(*) AS co,
               SUM({QUANTISED_SQL.format(value="a.weight / (a.size - 1)")}) AS together
        FROM recs_basket a
        JOIN recs_basket b ON b.order_id = a.order_id AND b.product_id > a.product_id
        WHERE a.size BETWEEN 2 AND %(cap)s
        GROUP BY a.product_id, b.product_id
        HAVING COUNT(*) >= %(min_co)s
        """,
        params,
    )
    _analyze("recs_count", "recs_pair")
    return _execute("SELECT COUNT(*) FROM recs_pair")[0]


def _write_lists(run, rules) -> tuple[int, list]:
    """Both directions of every pair, with confidence, ranked by score, top
    ``list_length`` per product; then every product's shares. Returns the
    products with a list and the run's prior (the largest shares)."""
    confidence = "(pair.together + %(m)s * other.share) / (anchor.baskets + %(m)s)"
    score = LIST_SCORE_SQL.format(confidence="confidence", share_2="share_2", share="share")
    _execute(
        f"""
        INSERT INTO {Recommendation._meta.db_table} (run_id, product_id, rank, recommended_id, score, co_count, computed_at)
        SELECT %(run)s, product_id, position, recommended_id, confidence, co, %(at)s
        FROM (
            SELECT product_id, recommended_id, co, confidence,
                   ROW_NUMBER() OVER (PARTITION BY product_id ORDER BY {score} DESC, recommended_id) AS position
            FROM (
                SELECT pair.anchor AS product_id, pair.other_id AS recommended_id, pair.co,
                       {confidence} AS confidence, other.share, other.share_2
                FROM (
                    SELECT a AS anchor, b AS other_id, co, together FROM recs_pair
                    UNION ALL
                    SELECT b, a, co, together FROM recs_pair
                ) pair
                JOIN recs_count anchor ON anchor.product_id = pair.anchor
                JOIN recs_count other ON other.product_id = pair.other_id
            ) directed
        ) ranked
        WHERE position <= %(length)s
        """,
        {"run": run.pk, "at": run.started_at, "m": float(rules.shrinkage), "length": rules.list_length},
    )
    columns = ", ".join(f"share_{k}" for k in SIZES)
    _execute(
        f"INSERT INTO {Popularity._meta.db_table} (run_id, product_id, baskets, share, {columns}) "
        f"SELECT %s, product_id, baskets, share, {columns} FROM recs_count WHERE baskets > 0",
        [run.pk],
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT product_id, share, {columns} FROM recs_count WHERE baskets > 0 "
            "ORDER BY share DESC, product_id LIMIT %s",
            [rules.list_length],
        )
        prior = [list(row) for row in cursor.fetchall()]
    return Recommendation.objects.filter(run=run, rank=1).count(), prior


def _write_bestsellers(run, rules) -> list[int]:
    """Each category's most bought products, its descendants' included; returns the store's."""
    _execute(
        f"""
        WITH RECURSIVE closure (category_id, ancestor_id) AS (
            SELECT id, id FROM {Category._meta.db_table}
            UNION ALL
            SELECT closure.category_id, c.parent_id
            FROM closure JOIN {Category._meta.db_table} c ON c.id = closure.ancestor_id
            WHERE c.parent_id IS NOT NULL
        )
        INSERT INTO {CategoryBestseller._meta.db_table} (run_id, category_id, rank, product_id, orders)
        SELECT %s, ancestor_id, position, product_id, n
        FROM (
            SELECT closure.ancestor_id, counts.product_id, counts.n,
                   ROW_NUMBER() OVER (PARTITION BY closure.ancestor_id ORDER BY counts.n DESC, counts.product_id) AS position
            FROM recs_count counts
            JOIN {Product._meta.db_table} p ON p.id = counts.product_id
            JOIN closure ON closure.category_id = p.category_id
        ) ranked
        WHERE position <= %s
        """,
        [run.pk, rules.list_length],
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT product_id FROM recs_count ORDER BY n DESC, product_id LIMIT %s", [rules.list_length])
        return [product_id for (product_id,) in cursor.fetchall()]


def _publish(run) -> int | None:
    """Make the run current, in the transaction that wrote it; returns the run it replaces."""
    previous = Run.objects.filter(is_current=True).values_list("pk", flat=True).first()
    Run.objects.filter(is_current=True).update(is_current=False)
    run.is_current = True
    run.finished_at = timezone.now()
    run.save()
    return previous


def _delete_old_runs() -> None:
    """Rows first, one statement per table: the ORM deletes rows of composite
    primary keys by fetching every one of them first."""
    old_runs = f"SELECT id FROM {Run._meta.db_table} WHERE NOT is_current"
    with transaction.atomic():
        for model in (Recommendation, Popularity, CategoryBestseller):
            _execute(f"DELETE FROM {model._meta.db_table} WHERE run_id IN ({old_runs})")
        Run.objects.filter(is_current=False).delete()


def fill_cache(run, previous_run_id=None) -> None:
    """Put the run's lists in the cache, the way readers look them up.

    Only products with a list are written (a few hundred thousand at a million
    products, not every product): a product without one is cached on its first
    read (``selectors``). Products that had a list in the previous run and have
    none now are dropped, so no stale list outlives the run that replaced it.
    """
    ttl = settings.RECOMMENDATIONS_CACHE_SECONDS
    # A range of product ids per statement: each is a short index walk whatever
    # the planner thinks of the whole (as one server-side cursor it chose a
    # fast-start plan that ran for minutes at a million products).
    bounds = Popularity.objects.filter(run=run).aggregate(low=Min("product_id"), high=Max("product_id"))
    for start in range(bounds["low"] or 0, (bounds["high"] or -1) + 1, FILL_RANGE):
        with connection.cursor() as cursor:
            cursor.execute(
                f"{selectors.LIST_ROWS_SQL} WHERE anchor.run_id = %s AND anchor.product_id BETWEEN %s AND %s "
                "AND r.rank IS NOT NULL ORDER BY anchor.product_id, r.rank",
                [run.pk, start, start + FILL_RANGE - 1],
            )
            lists = selectors.cached_lists(cursor.fetchall())
        for chunk in _chunks(lists, CACHE_BATCH):
            cache.set_many({selectors.product_key(product_id): cached for product_id, cached in chunk}, ttl)
    if previous_run_id is not None:
        gone = (
            Recommendation.objects.filter(run_id=previous_run_id, rank=1)
            .exclude(product_id__in=Recommendation.objects.filter(run=run, rank=1).values("product_id"))
            .values_list("product_id", flat=True)
        )
        for chunk in _chunks(gone.iterator(chunk_size=10_000), CACHE_BATCH):
            cache.delete_many([selectors.product_key(product_id) for product_id in chunk])
    # Every category is written, with an empty list where nothing sold: the tree is small.
    lists = dict.fromkeys(Category.objects.values_list("pk", flat=True), [])
    rows = (
        CategoryBestseller.objects.filter(run=run).order_by("category_id", "rank").values_list("category_id", "product_id")
    )
    lists.update({category_id: [product for _, product in group] for category_id, group in groupby(rows, itemgetter(0))})
    for chunk in _chunks(lists.items(), CACHE_BATCH):
        cache.set_many({selectors.category_key(category_id): ids for category_id, ids in chunk}, ttl)
        cache.delete_many([selectors.shelf_key(category_id) for category_id, _ in chunk])
    cache.set(selectors.BESTSELLERS_KEY, run.bestsellers, ttl)
    cache.set(selectors.PRIOR_KEY, selectors.prior_from_run(run.prior), ttl)
    cache.delete(selectors.shelf_key(None))


def _chunks(iterable, size):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk
