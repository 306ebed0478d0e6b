"""Importing a catalog: a feed file or generated rows, loaded batch by batch.

``import_file`` serves ``manage.py import_catalog``; ``import_products`` the
seeder, which makes its rows itself: both end in the same loader
(``catalog.importing.load``). Reading and checking rows (and working out new
products' search texts) runs on a thread of its own, so Python prepares the
next batch while the database writes the last: the import keeps both cores
busy.

Into an empty catalog on PostgreSQL the secondary indexes of products, their
search projection and stock are dropped first and built once at the end
(``deferred_indexes``), much cheaper than keeping them current row by row,
and nobody shops in an empty store meanwhile.
"""
import queue
from concurrent.futures import ThreadPoolExecutor
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field

from django.db import connection, transaction

from amazon_site.celery import enqueue_on_commit
from amazon_site.core.bulk import lift_statement_timeout

from .. import tasks
from ..models import Product
from ..selectors import forget_attribute_facets, forget_category_tree
from . import feeds
from .load import References, load_batch
from .rows import Rejected, Rejection, check

DEFAULT_BATCH_SIZE = 10_000
# lock() names every product of a batch in one statement; SQLite takes at most 32,766 parameters.
MAX_BATCH_SIZE = 20_000
DEFERRED_TABLES = ("catalog_product", "catalog_product_search", "catalog_inventory")
INDEX_BUILDERS = 2


class ImportStopped(Exception):
    """A batch failed and nothing of it was written; the batches before it stay loaded."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


@dataclass
class ImportReport:
    created: int = 0
    updated: int = 0
    rows: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    seconds: float = 0.0
    # New products or changed texts: the word list of "did you mean" and the
    # type-ahead entries, rebuilt nightly, are due for a rebuild.
    texts_changed: bool = False

    @property
    def unchanged(self) -> int:
        return self.rows - self.created - self.updated - len(self.rejections)


def import_file(path, *, batch_size=DEFAULT_BATCH_SIZE, default_seller=None, progress=None) -> ImportReport:
    """Load a CSV or JSON Lines feed (see catalog/importing/rows.py for its fields); ``feeds.FeedError`` if unreadable."""
    warehouses = set(References.warehouse_codes())
    # Read the header (or first line) now: a file that is no feed stops before anything is written.
    rows = feeds.read(path, warehouses=warehouses)
    first = next(rows, None)

    def checked():
        seen = {}
        for line, raw in _chain(first, rows):
            if isinstance(raw, Rejected):
                yield Rejection(line, "", raw.field, raw.reason)
                continue
            try:
                row = check(raw, line, warehouses=warehouses)
            except Rejected as refusal:
                yield Rejection(line, str(raw.get("sku") or ""), refusal.field, refusal.reason)
                continue
            if row.sku in seen:
                yield Rejection(line, row.sku, "sku", f"the SKU is already on line {seen[row.sku]} of this file")
                continue
            seen[row.sku] = line
            yield row

    report = _import(checked(), batch_size=batch_size, default_seller=default_seller, progress=progress)
    if report.texts_changed:
        # Rebuilt over the whole catalog (a minute or more at a million
        # products): by the worker, after the import, not inside it.
        enqueue_on_commit(tasks.refresh_search_terms)
        enqueue_on_commit(tasks.refresh_typeahead)
    return report


def _chain(first, rest):
    if first is not None:
        yield first
    yield from rest


def import_products(rows, *, batch_size=DEFAULT_BATCH_SIZE, default_seller=None, progress=None) -> ImportReport:
    """Load ``ProductRow``s made by code (the seeder), unique by SKU, through the same loader as a feed.

    The caller rebuilds the search terms and type-ahead entries when ``texts_changed``.
    """
    return _import(rows, batch_size=batch_size, default_seller=default_seller, progress=progress)


def _import(items, *, batch_size, default_seller, progress) -> ImportReport:
    if not 1 <= batch_size <= MAX_BATCH_SIZE:
        raise ValueError(f"A batch is 1 to {MAX_BATCH_SIZE} rows.")
    started = time.perf_counter()
    report = ImportReport()
    references = References(default_seller=default_seller)
    categories_created = False
    with deferred_indexes(enabled=not Product.objects.exists()) as deferred, _stopped_part_way(report):
        for batch, refused in _prepared_batches(items, batch_size):
            report.rows += len(batch) + len(refused)
            report.rejections += refused
            try:
                outcome = load_batch(batch, references, fresh=deferred) if batch else None
            except Exception as error:
                report.seconds = time.perf_counter() - started
                lines = [row.row for row in batch]
                raise ImportStopped(
                    f"Stopped at the batch of lines {min(lines)}–{max(lines)}: {error}. Nothing of that batch was "
                    "written; the batches before it are loaded. Loading by SKU makes it safe to run the file again.",
                    report,
                ) from error
            if outcome:
                report.created += outcome.created
                report.updated += outcome.updated
                report.rejections += outcome.rejections
                report.texts_changed |= outcome.texts_changed
                categories_created |= outcome.categories_created
            if progress:
                progress(len(batch) + len(refused))
    if categories_created:
        forget_category_tree()
        forget_attribute_facets()
    if deferred and connection.vendor == "postgresql" and not connection.in_atomic_block:
        # Statistics for the planner, and a visibility map so that browse
        # queries are answered from the indexes alone.
        with connection.cursor() as cursor:
            # VACUUM runs outside a transaction, so SET LOCAL cannot lift the request-sized timeout.
            lift_statement_timeout(cursor)
            try:
                cursor.execute(f"VACUUM (ANALYZE) {', '.join(DEFERRED_TABLES)}")
            finally:
                cursor.execute("RESET statement_timeout")
    report.rejections.sort(key=lambda rejection: rejection.row)
    report.seconds = time.perf_counter() - started
    return report


@contextmanager
def _stopped_part_way(report):
    """A file found unreadable after some batches loaded: say so, as for a failed batch."""
    try:
        yield
    except feeds.FeedError as error:
        if not report.rows:
            raise
        raise ImportStopped(
            f"Stopped after {report.rows} rows: {error} The rows before were loaded; "
            "loading by SKU makes it safe to run the corrected file again.",
            report,
        ) from error


_DONE = object()


def _prepared_batches(items, batch_size):
    """(rows, rejections) batches, made on a thread of their own while the caller loads the previous one."""
    ready = queue.Queue(maxsize=2)

    def produce():
        try:
            batch, refused = [], []
            for item in items:
                if isinstance(item, Rejection):
                    refused.append(item)
                    continue
                if item.complete and item.parts is None:
                    item.parts = item.document_parts()
                batch.append(item)
                if len(batch) == batch_size:
                    ready.put((batch, refused))
                    batch, refused = [], []
            if batch or refused:
                ready.put((batch, refused))
            ready.put(_DONE)
        except BaseException as error:  # handed over to the loading thread, which raises it
            ready.put(error)

    producer = threading.Thread(target=produce, name="catalog-import-rows", daemon=True)
    producer.start()
    while True:
        item = ready.get()
        if item is _DONE:
            break
        if isinstance(item, BaseException):
            raise item
        yield item
    producer.join()


@contextmanager
def deferred_indexes(*, enabled):
    """Drop the secondary indexes and foreign keys of products, their search projection and stock; add them after.

    Building an index once over a million rows costs far less than keeping it
    current row by row (the full-text GIN index most of all). Indexes that
    back a primary key or a unique constraint stay: the loader joins on them.
    """
    if not enabled or connection.vendor != "postgresql":
        yield False
        return
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = current_schema() "
            "AND i.tablename = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
            [list(DEFERRED_TABLES)],
        )
        indexes = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f'DROP INDEX "{name}"')
        # Foreign keys too, as pg_restore does: checked once per row at each
        # commit they cost more than the load; added back, one join checks them all.
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.contype = 'f' AND c.conrelid = ANY(%s::regclass[])",
            [list(DEFERRED_TABLES)],
        )
        foreign_keys = cursor.fetchall()
        with _checks_run_first():
            for table, name, _ in foreign_keys:
                cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    try:
        yield True
    finally:
        statements = [definition for _, definition in indexes] + [
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}' for table, name, definition in foreign_keys
        ]
        if connection.in_atomic_block:  # a caller's transaction (a test's): other connections would wait on it
            for statement in statements[: len(indexes)]:
                _build(statement, close=False)
            with _checks_run_first():
                for statement in statements[len(indexes):]:
                    _build(statement, close=False)
        else:
            # Two at a time, on two connections: a GIN build uses one core.
            with ThreadPoolExecutor(max_workers=INDEX_BUILDERS) as builders:
                list(builders.map(_build, [definition for _, definition in indexes]))
            for statement in statements[len(indexes):]:
                _build(statement, close=False)


@contextmanager
def _checks_run_first():
    """PostgreSQL alters no table with deferred checks pending: inside a caller's
    transaction (a test's) run them first, and defer the next ones again after."""
    if not connection.in_atomic_block:
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        yield
        cursor.execute("SET CONSTRAINTS ALL DEFERRED")


def _build(statement, *, close=True):
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            # Index builds outlast the request-sized statement timeout.
            cursor.execute("SET LOCAL statement_timeout = 0")
            cursor.execute("SET LOCAL maintenance_work_mem = '512MB'")
            cursor.execute(statement)
    finally:
        if close:  # a builder thread's own connection
            connection.close()
