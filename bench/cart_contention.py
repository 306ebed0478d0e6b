"""Cart reservations under contention: K concurrent clients adding to carts.

Each client is its own process with its own database connection and calls the
reservation service (``cart.services.add_to_cart``, one unit per call) as fast
as it can. With ``--hot`` every client adds the same product, whose stock
(spread over 3 warehouses) covers only part of the attempts: the single-row
worst case. Without it the adds are spread over many products. Prints one JSON
line; ``oversold`` counts units handed out beyond stock and must be 0.

    createdb -h 127.0.0.1 -U postgres amazon_cartbench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_cartbench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/cart_contention.py --clients 8 [--hot]

The run creates its own seller, products, warehouses, stock and carts and
deletes them afterwards; use a database of its own all the same.
"""
import argparse
import json
import multiprocessing
import os
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
# Not DEBUG: Django would record every query in memory and slow the clients down.
os.environ.setdefault("SECRET_KEY", "benchmark-only-key")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Sum  # noqa: E402

from cart import services  # noqa: E402
from cart.models import Cart, Reservation  # noqa: E402
from catalog.models import Brand, Category, Inventory, Product, Seller, Warehouse  # noqa: E402

WAREHOUSES = 3
LINES_PER_CART = 5  # spread mode: a shopper's cart holds a few products


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def create_store(tag, *, hot, products, stock_per_product, hot_stock):
    seller = Seller.objects.create(name=f"Bench seller {tag}", slug=f"bench-{tag}")
    brand = Brand.objects.create(name=f"Bench brand {tag}", slug=f"bench-{tag}")
    category = Category.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
    warehouses = [Warehouse.objects.create(code=f"B{tag[:8]}{i}", name=f"Bench {i}") for i in range(WAREHOUSES)]
    count = 1 if hot else products
    created = Product.objects.bulk_create(
        Product(seller=seller, brand=brand, category=category, title=f"Bench product {i}", slug=f"bench-{i}", price="9.99")
        for i in range(count)
    )
    total = hot_stock if hot else stock_per_product
    Inventory.objects.bulk_create(
        Inventory(product=product, warehouse=warehouse, quantity=total // WAREHOUSES + (i < total % WAREHOUSES))
        for product in created
        for i, warehouse in enumerate(warehouses)
    )
    return seller, brand, category, warehouses, [product.pk for product in created]


def drop_store(seller, brand, category, warehouses, product_ids, cart_ids):
    Cart.objects.filter(pk__in=cart_ids).delete()  # lines and reservations go with them
    Inventory.objects.filter(product_id__in=product_ids).delete()
    Product.objects.filter(pk__in=product_ids).delete()
    Warehouse.objects.filter(pk__in=[warehouse.pk for warehouse in warehouses]).delete()
    for row in (seller, brand, category):
        row.delete()


def client(index, product_ids, cart_ids, attempts, start, results):
    """One shopper process: ``attempts`` adds of one unit, each timed."""
    rng = random.Random(index)
    connection.ensure_connection()
    latencies, reserved, refused = [], {}, 0
    start.wait()
    began = time.perf_counter()
    for attempt in range(attempts):
        cart_id = cart_ids[attempt // LINES_PER_CART] if len(product_ids) > 1 else cart_ids[attempt]
        product_id = rng.choice(product_ids)
        started = time.perf_counter()
        change = services.add_to_cart(cart_id, product_id, 1)
        latencies.append((time.perf_counter() - started) * 1000)
        if change.added:
            reserved[product_id] = reserved.get(product_id, 0) + change.added
        else:
            refused += 1
    results.put({"began": began, "ended": time.perf_counter(), "latencies": latencies, "reserved": reserved, "refused": refused})
    connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--hot", action="store_true", help="All clients on one product with limited stock.")
    parser.add_argument("--attempts", type=int, default=2000, help="Adds in total, shared by the clients.")
    parser.add_argument("--products", type=int, default=1000, help="Products to spread over (without --hot).")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL: set DATABASE_URL (see the docstring).")

    per_client = args.attempts // args.clients
    attempts = per_client * args.clients
    tag = uuid.uuid4().hex[:12]
    hot_stock = attempts * 6 // 10  # 60% of the attempts can succeed
    store = create_store(tag, hot=args.hot, products=args.products, stock_per_product=50, hot_stock=hot_stock)
    product_ids = store[-1]
    carts_per_client = per_client if args.hot else -(-per_client // LINES_PER_CART)
    cart_ids = [cart.pk for cart in Cart.objects.bulk_create(Cart() for _ in range(carts_per_client * args.clients))]
    stock = dict(
        Inventory.objects.filter(product_id__in=product_ids).values("product_id").annotate(n=Sum("quantity")).values_list("product_id", "n")
    )
    try:
        connections.close_all()  # each forked client opens its own connection
        context = multiprocessing.get_context("fork")
        start, results = context.Barrier(args.clients), context.Queue()
        processes = [
            context.Process(
                target=client,
                args=(i, product_ids, cart_ids[i * carts_per_client : (i + 1) * carts_per_client], per_client, start, results),
            )
            for i in range(args.clients)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=600) for _ in processes]
        for process in processes:
            process.join()
        if any(process.exitcode for process in processes):
            raise SystemExit("a client failed")

        handed_out = {}
        for outcome in outcomes:
            for product_id, units in outcome["reserved"].items():
                handed_out[product_id] = handed_out.get(product_id, 0) + units
        in_database = dict(
            Inventory.objects.filter(product_id__in=product_ids).values("product_id").annotate(n=Sum("reserved")).values_list("product_id", "n")
        )
        in_rows = Reservation.objects.filter(product_id__in=product_ids).aggregate(n=Sum("quantity"))["n"] or 0
        reserved = sum(handed_out.values())
        latencies = [latency for outcome in outcomes for latency in outcome["latencies"]]
        wall = max(outcome["ended"] for outcome in outcomes) - min(outcome["began"] for outcome in outcomes)
        print(
            json.dumps(
                {
                    "clients": args.clients,
                    "mode": "hot" if args.hot else "spread",
                    "products": len(product_ids),
                    "stock": sum(stock.values()),
                    "attempts": attempts,
                    "reserved": reserved,
                    "refused": sum(outcome["refused"] for outcome in outcomes),
                    "oversold": sum(max(0, units - stock[product_id]) for product_id, units in handed_out.items()),
                    "books_balance": reserved == sum(in_database.values()) == in_rows,
                    "per_s": round(reserved / wall, 1),
                    "attempts_per_s": round(attempts / wall, 1),
                    "p50_ms": round(percentile(latencies, 0.50), 1),
                    "p95_ms": round(percentile(latencies, 0.95), 1),
                    "cache": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1],
                }
            )
        )
    finally:
        drop_store(*store, cart_ids)


if __name__ == "__main__":
    main()
