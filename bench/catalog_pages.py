"""Server time of category and product pages at the size of the seeded catalog.

Runs requests through Django's test client (the whole middleware, view and
template stack, no network) against DATABASE_URL, and prints one JSON line.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_bench \
        python bench/catalog_pages.py --requests 200

Seed first with ``manage.py seed_catalog --products 1000000``.
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from catalog.models import Category, Product  # noqa: E402
from catalog.selectors import BROWSE_SORTS  # noqa: E402


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def timed(client, url):
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"{url} answered {response.status_code}")
    return elapsed


def summary(samples):
    return {
        "p50_ms": round(statistics.median(samples), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "max_ms": round(max(samples), 1),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="Requests per page kind.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    setup_test_environment()  # lets the test client's host through, DEBUG off
    rng = random.Random(args.seed)
    client = Client()
    slugs = list(Category.objects.values_list("slug", flat=True))
    bounds = Product.objects.aggregate(low=Min("id"), high=Max("id"))
    products = Product.objects.count()
    if not products:
        raise SystemExit("The catalog is empty: run manage.py seed_catalog first.")

    def category_url(deep):
        page = settings.CATALOG_MAX_PAGES if deep else rng.choice([1, 1, 2, 3, rng.randint(1, 20)])
        return f"/c/{rng.choice(slugs)}/?sort={rng.choice(list(BROWSE_SORTS))}&page={page}"

    def product_url():
        while True:
            candidates = Product.objects.filter(pk__gte=rng.randint(bounds["low"], bounds["high"]), is_active=True)
            product = candidates.order_by("id").only("id", "slug").first()
            if product:
                return product.get_absolute_url()

    for _ in range(20):  # warm the connection, caches and the OS page cache
        timed(client, category_url(deep=False))

    category = [timed(client, category_url(deep=False)) for _ in range(args.requests)]
    deepest = [timed(client, category_url(deep=True)) for _ in range(args.requests)]
    product_urls = [product_url() for _ in range(args.requests)]
    product = [timed(client, url) for url in product_urls]
    print(
        json.dumps(
            {
                "products": products,
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "requests": args.requests,
                "category_page": summary(category),
                "category_page_deepest": summary(deepest),
                "product_page": summary(product),
            }
        )
    )


if __name__ == "__main__":
    main()
