"""Checkout under load: K concurrent shoppers each adding to a cart, checking out and paying.

Each shopper is its own process with its own database connection and goes
through the services the pages call (``cart.services.add_to_cart``, then
``orders.checkout.place_order`` with the test gateway's good card). Stock is
limited, so late shoppers find products sold out and some checkouts are
refused. Prints one JSON line; ``oversold`` counts units sold beyond stock and
must be 0.

    createdb -h 127.0.0.1 -U postgres amazon_checkoutbench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_checkoutbench
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/checkout.py --clients 8

The run creates its own products, stock and shoppers and deletes them
afterwards; use a database of its own all the same.
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
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")
os.environ.setdefault("LOG_LEVEL", "WARNING")  # eager Celery logs every task at INFO

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection, connections  # noqa: E402
from django.db.models import Sum  # noqa: E402

from cart import services as cart_services  # noqa: E402
from cart.models import Cart  # noqa: E402
from catalog.models import Brand, Category, Inventory, Product, Seller, Warehouse  # noqa: E402
from orders import checkout  # noqa: E402
from orders.errors import CheckoutError  # noqa: E402
from orders.models import Order, OrderItem, Payment  # noqa: E402
from orders.payments import Card, TestGateway  # noqa: E402
from orders.selectors import checkout_summary  # noqa: E402

WAREHOUSES = 2
CARD = Card(TestGateway.SUCCEEDS, 12, 2099, "123")
ADDRESS = {"full_name": "Bench Shopper", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"}


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0


def create_store(tag, *, products, stock_per_product):
    seller = Seller.objects.create(name=f"Bench seller {tag}", slug=f"bench-{tag}")
    brand = Brand.objects.create(name=f"Bench brand {tag}", slug=f"bench-{tag}")
    category = Category.objects.create(name=f"Bench {tag}", slug=f"bench-{tag}")
    warehouses = [Warehouse.objects.create(code=f"C{tag[:8]}{i}", name=f"Bench {i}") for i in range(WAREHOUSES)]
    created = Product.objects.bulk_create(
        Product(seller=seller, brand=brand, category=category, title=f"Bench product {i}", slug=f"bench-{i}", price="19.99")
        for i in range(products)
    )
    Inventory.objects.bulk_create(
        Inventory(product=product, warehouse=warehouse, quantity=stock_per_product // WAREHOUSES + (i < stock_per_product % WAREHOUSES))
        for product in created
        for i, warehouse in enumerate(warehouses)
    )
    return seller, brand, category, warehouses, [product.pk for product in created]


def drop_store(seller, brand, category, warehouses, product_ids, users):
    orders = Order.objects.filter(user__in=users)
    Payment.objects.filter(order__in=orders).delete()
    orders.delete()
    Cart.objects.filter(user__in=users).delete()
    get_user_model().objects.filter(pk__in=[user.pk for user in users]).delete()
    Inventory.objects.filter(product_id__in=product_ids).delete()
    Product.objects.filter(pk__in=product_ids).delete()
    Warehouse.objects.filter(pk__in=[warehouse.pk for warehouse in warehouses]).delete()
    for row in (seller, brand, category):
        row.delete()


def client(index, user_id, product_ids, attempts, start, results):
    """One shopper process: ``attempts`` times add one to three products, check out and pay."""
    rng = random.Random(index)
    connection.ensure_connection()
    user = get_user_model().objects.get(pk=user_id)
    cart_id = cart_services.get_or_create_cart(user=user).pk
    address = checkout.save_address(user=user, data=ADDRESS)
    latencies, placed, refused = [], 0, 0
    start.wait()
    began = time.perf_counter()
    for _ in range(attempts):
        started = time.perf_counter()
        for product_id in rng.sample(product_ids, rng.randint(1, 3)):
            cart_services.add_to_cart(cart_id, product_id, 1)
        try:
            summary = checkout_summary(user=user, cart_id=cart_id)
            checkout.place_order(
                user=user, cart_id=cart_id, address=address, card=CARD,
                checkout_key=uuid.uuid4(), expected_total=summary.total,
            )
            placed += 1
        except CheckoutError:
            refused += 1  # sold out: an empty cart, or nothing left to add
        latencies.append((time.perf_counter() - started) * 1000)
    results.put({"began": began, "ended": time.perf_counter(), "latencies": latencies, "placed": placed, "refused": refused})
    connection.close()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--orders", type=int, default=1000, help="Checkouts attempted in total, shared by the clients.")
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--stock", type=int, default=15, help="Units per product; low enough that some sell out.")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        raise SystemExit("Run against PostgreSQL: set DATABASE_URL (see the docstring).")

    per_client = args.orders // args.clients
    tag = uuid.uuid4().hex[:12]
    store = create_store(tag, products=args.products, stock_per_product=args.stock)
    product_ids = store[-1]
    users = [get_user_model().objects.create_user(f"bench-{tag}-{i}") for i in range(args.clients)]
    try:
        connections.close_all()  # each forked client opens its own connection
        context = multiprocessing.get_context("fork")
        start, results = context.Barrier(args.clients), context.Queue()
        processes = [
            context.Process(target=client, args=(i, users[i].pk, product_ids, per_client, start, results))
            for i in range(args.clients)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=900) for _ in processes]
        for process in processes:
            process.join()
        if any(process.exitcode for process in processes):
            raise SystemExit("a client failed")

        sold = dict(
            OrderItem.objects.filter(product_id__in=product_ids, order__status="paid")
            .values("product_id").annotate(n=Sum("quantity")).values_list("product_id", "n")
        )
        left = Inventory.objects.filter(product_id__in=product_ids).aggregate(q=Sum("quantity"), r=Sum("reserved"))
        orders = sum(outcome["placed"] for outcome in outcomes)
        latencies = [latency for outcome in outcomes for latency in outcome["latencies"]]
        wall = max(outcome["ended"] for outcome in outcomes) - min(outcome["began"] for outcome in outcomes)
        print(
            json.dumps(
                {
                    "clients": args.clients,
                    "attempts": per_client * args.clients,
                    "orders": orders,
                    "refused": sum(outcome["refused"] for outcome in outcomes),
                    "units_sold": sum(sold.values()),
                    "oversold": sum(max(0, units - args.stock) for units in sold.values()),
                    # Every unit is on a shelf, held by a cart, or sold: none made up, none lost.
                    "books_balance": left["q"] + sum(sold.values()) == args.stock * args.products,
                    "per_s": round(orders / wall, 1),
                    "p50_ms": round(percentile(latencies, 0.50), 1),
                    "p95_ms": round(percentile(latencies, 0.95), 1),
                }
            )
        )
    finally:
        drop_store(*store, users)


if __name__ == "__main__":
    main()
