"""The catalog import at scale: a full feed into an empty catalog, then a daily price-and-stock feed while a shopper adds to carts.

    .venv/bin/python bench/catalog_import.py --products 1000000

Drops and creates the database ``--database`` (default ``amazon_import_bench``)
on the PostgreSQL server of ``--server`` (default 127.0.0.1:5432 as
``postgres``), migrates it and creates the three warehouses. It writes a CSV
feed of ``--products`` realistic products (the seeder's generator, written to
a file as a supplier would send it; not timed), times ``import_catalog``'s
service on it, then writes a feed of one row per product (SKU, price, the
three warehouses' units; a fifth of the prices and a third of the shelf counts
changed) and times that while one shopper process adds to carts as fast as it
can, compared with the same shopper before the feed. Prints one JSON line.

Celery runs eagerly here (no broker), so the word list and type-ahead rebuilds
the import queues run in-process after the load: ``full_load_s`` is the load,
``derived_rebuild_s`` those rebuilds (in production the worker's).
"""
import argparse
import csv
import json
import multiprocessing
import os
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from served import percentile, postgres_settings  # noqa: E402

SHOPPER_SECONDS_BEFORE = 15
SAMPLE = 20_000


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--database", default="amazon_import_bench")
    parser.add_argument("--server", default="postgres@127.0.0.1:5432")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    import psycopg

    with psycopg.connect(f"postgresql://{args.server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{args.database}"')
        admin.execute(f'CREATE DATABASE "{args.database}"')
    os.environ["DATABASE_URL"] = f"postgres://{args.server}/{args.database}"
    os.environ.setdefault("SECRET_KEY", "benchmark-only-key")
    os.environ.pop("CELERY_BROKER_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from catalog.importing.services import import_file
    from catalog.models import Warehouse
    from catalog.seeding import WAREHOUSES

    call_command("migrate", verbosity=0)
    for code, name in WAREHOUSES:
        Warehouse.objects.create(code=code, name=name)
    codes = [code for code, _ in WAREHOUSES]

    with tempfile.TemporaryDirectory() as folder:
        full = Path(folder) / "catalog.csv"
        write_full_feed(full, args.products, args.seed, codes)
        started = time.perf_counter()
        loaded = import_file(full)
        full_total = time.perf_counter() - started

        daily = Path(folder) / "daily.csv"
        write_daily_feed(daily, args.seed, codes)
        sample = sample_products()
        connection.close()
        shopper = Shopper(sample)
        before = shopper.run_for(SHOPPER_SECONDS_BEFORE)
        shopper.start()
        started = time.perf_counter()
        fed = import_file(daily)
        feed_total = time.perf_counter() - started
        during = shopper.stop()

    print(
        json.dumps(
            {
                "products": loaded.created,
                "full_load_s": round(loaded.seconds, 1),
                "full_load_rows_per_s": round(loaded.rows / loaded.seconds),
                "derived_rebuild_s": round(full_total - loaded.seconds, 1),
                "full_rejected": len(loaded.rejections),
                "feed_rows": fed.rows,
                "feed_s": round(feed_total, 1),
                "feed_updated": fed.updated,
                "feed_unchanged": fed.unchanged,
                "feed_rejected": len(fed.rejections),
                "cart_adds_before": len(before["latencies"]),
                "cart_add_before_p50_ms": round(percentile(before["latencies"], 0.5), 1),
                "cart_add_before_p99_ms": round(percentile(before["latencies"], 0.99), 1),
                "cart_add_before_max_ms": round(before["latencies"][-1] if before["latencies"] else 0, 1),
                "cart_adds_during_feed": len(during["latencies"]),
                "cart_add_feed_p50_ms": round(percentile(during["latencies"], 0.5), 1),
                "cart_add_feed_p99_ms": round(percentile(during["latencies"], 0.99), 1),
                "cart_add_feed_max_ms": round(during["latencies"][-1] if during["latencies"] else 0, 1),
                "cart_errors": before["errors"] + during["errors"],
                "postgres": postgres_settings(connection),
            }
        )
    )


def write_full_feed(path, products, seed, codes):
    """The seeder's products as a supplier's CSV: names for brand, category and seller, not ids."""
    from django.db import transaction

    from catalog import seeding

    rng = random.Random(seed)
    with transaction.atomic():
        reference = seeding._seed_reference_data(rng)
        with open(path, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle)
            writer.writerow(
                ["sku", "title", "description", "brand", "category", "price", "attributes", "seller", "rating",
                 "review_count", "active", "created_at", *(f"stock:{code}" for code in codes)]
            )
            for number in range(1, products + 1):
                row = seeding._product(rng, reference, f"SKU-{number:09d}", number)
                writer.writerow(
                    [row.sku, row.title, row.description, row.brand, " > ".join(row.category), row.price,
                     json.dumps(row.attributes), row.seller, row.rating, row.review_count,
                     "true" if row.active else "false", row.created_at.isoformat(),
                     *(row.stock.get(code, "") for code in codes)]
                )
        # The import makes the categories, brands and sellers the feed names, as it would for a real one.
        transaction.set_rollback(True)


def write_daily_feed(path, seed, codes):
    """One row per product: a fifth of the prices moved by up to 10%, a third of the shelf counts changed."""
    from django.db import connection

    rng = random.Random(seed + 1)
    with connection.cursor() as cursor, open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["sku", "price", *(f"stock:{code}" for code in codes)])
        cursor.execute(
            "SELECT p.sku, p.price, array_agg(w.code), array_agg(i.quantity) FROM catalog_product p "
            "JOIN catalog_inventory i ON i.product_id = p.id JOIN catalog_warehouse w ON w.id = i.warehouse_id "
            "GROUP BY p.id ORDER BY p.id"
        )
        for sku, price, warehouses, quantities in cursor:
            units = dict(zip(warehouses, quantities))
            if rng.random() < 0.2:
                price = (price * Decimal(str(round(rng.uniform(0.9, 1.1), 2)))).quantize(Decimal("0.01"))
            shelf = [units[code] if code in units and rng.random() > 1 / 3 else rng.randint(0, 250) for code in codes]
            writer.writerow([sku, price, *shelf])


def sample_products():
    from catalog.models import Product

    return list(Product.objects.filter(in_stock=True, is_active=True).order_by("?").values_list("pk", flat=True)[:SAMPLE])


class Shopper:
    """One process adding single units to carts, each add timed (cart.services.add_to_cart)."""

    def __init__(self, product_ids):
        self.product_ids = product_ids
        self.context = multiprocessing.get_context("fork")

    def run_for(self, seconds):
        self.start()
        time.sleep(seconds)
        return self.stop()

    def start(self):
        self.stopping, self.results = self.context.Event(), self.context.Queue()
        self.process = self.context.Process(target=_shop, args=(self.product_ids, self.stopping, self.results))
        self.process.start()

    def stop(self):
        self.stopping.set()
        result = self.results.get()
        self.process.join()
        result["latencies"].sort()
        return result


def _shop(product_ids, stopping, results):
    from django.db import connection

    from cart import services
    from cart.models import Cart

    rng = random.Random(os.getpid())
    latencies, errors = [], 0
    cart = Cart.objects.create()
    while not stopping.is_set():
        if len(latencies) % 20 == 19:  # a shopper's cart holds a few lines; then a new shopper
            services.empty_cart(cart.pk)
            cart = Cart.objects.create()
        started = time.perf_counter()
        try:
            services.add_to_cart(cart.pk, rng.choice(product_ids), 1)
        except Exception:
            errors += 1
            continue
        latencies.append((time.perf_counter() - started) * 1000)
    services.empty_cart(cart.pk)
    connection.close()
    results.put({"latencies": latencies, "errors": errors})


if __name__ == "__main__":
    main()
