"""The nightly recommendations run at the size of the seeded store, and what
the lists add to the product page.

Runs ``compute_recommendations`` against DATABASE_URL (and VALKEY_URL when
set) and reports its time and peak memory: this process's (Python) and, when
the database server runs on this machine, its backend's and parallel workers'
private memory, sampled every 50 ms, plus what it spilled to temporary files.
Then times product pages through Django's test client (the whole middleware,
view and template stack, no network), with and without the recommendations
shelf, interleaved so that both see the same load. Prints one JSON line.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_seedtime \
    VALKEY_URL=redis://127.0.0.1:6379/13 python bench/recommendations.py --requests 300

Seed first: ``manage.py seed_catalog --products 1000000`` then
``manage.py seed_orders --orders 1000000``.
"""
import argparse
import json
import os
import random
import resource
import statistics
import sys
import threading
import time
from contextlib import nullcontext
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from catalog.models import Product  # noqa: E402
from orders.models import Order, OrderItem  # noqa: E402
from recommendations import selectors, services  # noqa: E402
from recommendations.models import Recommendation  # noqa: E402


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def summary(samples):
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "p95_ms": round(percentile(samples, 0.95), 2),
    }


class ServerMemory:
    """Peak private (anonymous) memory of this connection's PostgreSQL backend and its parallel workers."""

    def __init__(self):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_backend_pid()")
            self.backend = cursor.fetchone()[0]
        self.readable = Path(f"/proc/{self.backend}/status").exists()
        self.peak_kib = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.sample, daemon=True)

    def processes(self):
        yield self.backend
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    if f"parallel worker for PID {self.backend}" in (proc / "cmdline").read_text():
                        yield int(proc.name)
                except OSError:
                    continue

    def sample(self):
        while not self.stop.wait(0.05):
            total = 0
            for pid in self.processes():
                try:
                    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                        if line.startswith("RssAnon:"):
                            total += int(line.split()[1])
                except OSError:
                    continue
            self.peak_kib = max(self.peak_kib, total)

    def __enter__(self):
        if self.readable:
            self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        if self.readable:
            self.thread.join()


def temp_bytes():
    with connection.cursor() as cursor:
        cursor.execute("SELECT temp_bytes FROM pg_stat_database WHERE datname = current_database()")
        return cursor.fetchone()[0]


def compute():
    postgres = connection.vendor == "postgresql"
    spilled_before = temp_bytes() if postgres else 0
    server = ServerMemory() if postgres else None
    with server or nullcontext():
        started = time.perf_counter()
        run = services.compute_recommendations()
        seconds = time.perf_counter() - started
    return {
        "seconds": round(seconds, 1),
        "steps": run.timings,
        "python_peak_rss_mib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "db_backend_peak_mib": round(server.peak_kib / 1024) if server and server.readable else None,
        "db_temp_files_mib": round((temp_bytes() - spilled_before) / 2**20) if postgres else None,
        "db_work_mem": settings.RECOMMENDATIONS_WORK_MEM if postgres else None,
        "baskets": run.baskets,
        "skipped_orders": run.skipped_orders,
        "pairs": run.pairs,
        "products_with_list": run.products,
    }


def timed(client, url):
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def page_times(client, urls):
    """(with, without) the recommendations ("Frequently bought together" and the
    shelf) for each url, alternating which goes first."""
    empty = selectors.ProductSections(None, selectors.Shelf("also_bought", "", []))
    with_shelf, without = [], []
    for number, url in enumerate(urls):
        for shelf in ((True, False) if number % 2 else (False, True)):
            patch = nullcontext() if shelf else mock.patch.object(selectors, "for_product_page", lambda product: empty)
            with patch:
                (with_shelf if shelf else without).append(timed(client, url))
    return {
        "with_recommendations": summary(with_shelf),
        "without": summary(without),
        "p50_difference_ms": round(statistics.median(with_shelf) - statistics.median(without), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300, help="Product pages timed, each with and without the shelf.")
    parser.add_argument("--skip-compute", action="store_true", help="Time the pages against the current run only.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    result = {
        "database": connection.vendor,
        "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
        "products": Product.objects.count(),
        "orders": Order.objects.count(),
        "order_items": OrderItem.objects.count(),
    }
    if not args.skip_compute:
        result["compute"] = compute()

    setup_test_environment()  # lets the test client's host through
    rng = random.Random(args.seed)
    client = Client()
    with_list = list(
        Recommendation.objects.filter(run__is_current=True, rank=1)
        .order_by("?")
        .values_list("product_id", flat=True)[: args.requests]
    )
    if not with_list:
        raise SystemExit("No current run: run manage.py compute_recommendations or drop --skip-compute.")
    listed = set(with_list)
    bounds = Product.objects.aggregate(low=Min("id"), high=Max("id"))
    unsold = []
    while len(unsold) < args.requests:  # random products, most of which have no list of their own
        product_id = rng.randint(bounds["low"], bounds["high"])
        if product_id not in listed:
            unsold.append(product_id)

    def urls(ids):
        products = Product.objects.filter(pk__in=ids, is_active=True).only("id", "slug")
        found = [product.get_absolute_url() for product in products]
        rng.shuffle(found)
        return found

    for url in urls(with_list[:20]):  # warm the connection, caches and the OS page cache
        client.get(url)
    # From the cache: the nightly run filled it for products with a list.
    result["product_page"] = page_times(client, urls(with_list))
    # Mostly no list of their own: the first view reads the table and caches
    # the empty list; later views read it from the cache. Both show the
    # category's bestsellers instead.
    unsold_urls = urls(unsold)
    first_views = [timed(client, url) for url in unsold_urls]
    result["product_page_without_own_list"] = {"first_view": summary(first_views), **page_times(client, unsold_urls)}
    print(json.dumps(result))


if __name__ == "__main__":
    main()
