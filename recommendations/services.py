"""Writes of recommendations: the nightly computation and the cache it fills.

The lists are computed set-based, in a fixed number of SQL statements whatever
the catalog size (a query per product would never finish at 100M products):

1. ``baskets``: the distinct products of every paid order in the window, with
   the order's size, into a scratch table (one pass over order items).
2. ``pairs``: per product the baskets holding it (``n``), and per pair of
   products bought together the baskets holding both (``co``, a self-join of
   the scratch table within orders), keeping pairs with ``co >= min_co_count``.
3. ``lists``: score, rank and keep the top ``list_length`` per product with a
   window function, inserted straight into the table (INSERT … SELECT).
4. ``bestsellers``: the most bought products of every category (with its
   descendants) and of the whole store, for products nobody bought yet.

The rules and the score come from ``scoring``, shared with the offline
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
from django.utils import timezone

from catalog.models import Category, Product
from orders.selectors import paid_items_source

from . import selectors
from .models import CategoryBestseller, Recommendation, Run
from .scoring import RANK_SQL, SCORE_SQL, Rules

logger = logging.getLogger(__name__)

STEPS = ("baskets", "pairs", "lists", "bestsellers", "publish", "cache", "cleanup")
CACHE_BATCH = 1000
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
                run.baskets, run.skipped_orders = _collect_baskets(since, rules)
            with timer.step("pairs"):
                run.pairs = _count_pairs(rules)
            with timer.step("lists"):
                run.products = _write_lists(run, rules)
            with timer.step("bestsellers"):
                run.bestsellers = _write_bestsellers(run, rules)
            for table in ("recs_pair", "recs_count", "recs_basket"):
                _execute(f"DROP TABLE {table}")
            with timer.step("publish"):
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


def _collect_baskets(since, rules) -> tuple[int, int]:
    """Scratch table of (order, product, order size); returns (baskets used, orders over the cap).

    Paid means what ``orders.models.PAID_STATUSES`` says (paid and kept):
    pending orders may never be paid, cancelled ones (payment failed, or the
    shopper changed their mind) were not bought, and returned ones were bought
    but not kept, a poor reason to suggest the pair to someone else.
    """
    source = paid_items_source()
    statuses = ", ".join(["%s"] * len(source.paid_statuses))
    _execute(
        f"""
        CREATE TEMP TABLE recs_basket AS
        SELECT order_id, product_id,
               COUNT(*) OVER (PARTITION BY order_id) AS size,
               ROW_NUMBER() OVER (PARTITION BY order_id ORDER BY product_id) AS position
        FROM (
            SELECT DISTINCT item.order_id, item.product_id
            FROM {source.item_table} item
            JOIN {source.order_table} o ON o.id = item.order_id
            WHERE o.status IN ({statuses}) AND o.created_at >= %s AND item.product_id IS NOT NULL
        ) items
        """,
        [*source.paid_statuses, since],
    )
    _analyze("recs_basket")
    used, skipped = _execute(
        "SELECT COALESCE(SUM(CASE WHEN size <= %s THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN size > %s THEN 1 ELSE 0 END), 0) FROM recs_basket WHERE position = 1",
        [rules.max_order_items, rules.max_order_items],
    )
    return used, skipped


def _count_pairs(rules) -> int:
    """Scratch tables ``recs_count`` (product, n) and ``recs_pair`` (a < b, co); returns the pairs kept."""
    _execute(
        "CREATE TEMP TABLE recs_count AS "
        "SELECT product_id, COUNT(*) AS n FROM recs_basket WHERE size <= %s GROUP BY product_id",
        [rules.max_order_items],
    )
    # Each unordered pair once (a < b): half the rows of counting both directions.
    _execute(
        """
        CREATE TEMP TABLE recs_pair AS
        SELECT a.product_id AS a, b.product_id AS b, COUNT(*) AS co
        FROM recs_basket a
        JOIN recs_basket b ON b.order_id = a.order_id AND b.product_id > a.product_id
        WHERE a.size BETWEEN 2 AND %s
        GROUP BY a.product_id, b.product_id
        HAVING COUNT(*) >= %s
        """,
        [rules.max_order_items, rules.min_co_count],
    )
    _analyze("recs_count", "recs_pair")
    return _execute("SELECT COUNT(*) FROM recs_pair")[0]


def _write_lists(run, rules) -> int:
    """Both directions of every pair, scored and ranked, top ``list_length`` per product; returns the products."""
    score = SCORE_SQL.format(co="pair.co", n_a="na.n", n_b="nb.n")
    ranking = RANK_SQL.format(score="score", co="co", other="recommended_id")
    _execute(
        f"""
        WITH scored AS (
            SELECT pair.a, pair.b, pair.co, {score} AS score
            FROM recs_pair pair
            JOIN recs_count na ON na.product_id = pair.a
            JOIN recs_count nb ON nb.product_id = pair.b
        )
        INSERT INTO {Recommendation._meta.db_table} (run_id, product_id, rank, recommended_id, score, co_count, computed_at)
        SELECT %s, product_id, position, recommended_id, score, co, %s
        FROM (
            SELECT product_id, recommended_id, co, score, ROW_NUMBER() OVER (PARTITION BY product_id {ranking}) AS position
            FROM (
                SELECT a AS product_id, b AS recommended_id, co, score FROM scored
                UNION ALL
                SELECT b, a, co, score FROM scored
            ) directed
        ) ranked
        WHERE position <= %s
        """,
        [run.pk, run.started_at, rules.list_length],
    )
    return Recommendation.objects.filter(run=run, rank=1).count()


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
        for model in (Recommendation, CategoryBestseller):
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
    rows = (
        Recommendation.objects.filter(run=run)
        .order_by("product_id", "rank")
        .values_list("product_id", "recommended_id", "score")
        .iterator(chunk_size=10_000)
    )
    lists = (
        (product_id, [(other, score) for _, other, score in group]) for product_id, group in groupby(rows, itemgetter(0))
    )
    for chunk in _chunks(lists, CACHE_BATCH):
        cache.set_many({selectors.product_key(product_id): ids for product_id, ids in chunk}, ttl)
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
