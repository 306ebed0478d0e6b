"""Search latency at catalog scale: a fixed, seeded mix of shopper queries.

Seeds DATABASE_URL with ``seed_catalog`` up to ``--products`` (re-using a
catalog of that size if one is there), then runs the mix through the code
path the search page uses (search engine, facets, product cards) and prints
one JSON line. Page rendering is timed separately on a sample (``page_*``).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_bench \
        python bench/search.py --products 1000000
"""
import argparse
import json
import os
import random
import statistics
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
os.environ.setdefault("DEBUG", "1")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from catalog import search as catalog_search  # noqa: E402
from catalog import selectors  # noqa: E402
from catalog.models import Brand, Category, Product  # noqa: E402
from catalog.search.facets import build_facets  # noqa: E402
from catalog.search.query import PRICE_BUCKETS, SearchRequest  # noqa: E402
from catalog.seeding import ADJECTIVES, DEPARTMENTS  # noqa: E402

NOUNS = sorted({noun for _, subcategories, _ in DEPARTMENTS.values() for nouns in subcategories.values() for noun in nouns})
COLOURS = ["black", "white", "blue", "navy", "gray"]
# Words found in a large share of titles or descriptions (> 5% of the catalog).
BROAD = [adjective.lower() for adjective in ADJECTIVES] + ["black", "cotton", "steel", "everyday", "quality"]


def percentile(samples, fraction):
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def query_mix(rng, count):
    """(class, params) pairs: the classes the issue names, in fixed shares."""
    brands = list(Brand.objects.values_list("name", "slug"))
    categories = list(Category.objects.values_list("slug", flat=True))
    mix = []
    for number in range(count):
        noun = rng.choice(NOUNS).lower()
        kind = ["single", "two_words", "three_words", "broad", "filtered", "sorted_by_price"][number % 6]
        if kind == "single":
            params = {"q": rng.choice([noun.split()[-1], rng.choice(brands)[0]])}
        elif kind == "two_words":
            params = {"q": f"{rng.choice(ADJECTIVES)} {noun.split()[-1]}"}
        elif kind == "three_words":
            params = {"q": f"{rng.choice(brands)[0]} {rng.choice(COLOURS)} {noun.split()[-1]}"}
        elif kind == "broad":
            params = {"q": rng.choice(BROAD)}
        elif kind == "filtered":
            params = {"q": rng.choice([noun.split()[-1], rng.choice(BROAD)])}
            filters = {
                "category": lambda: rng.choice(categories),
                "brand": lambda: rng.choice(brands)[1],
                "price": lambda: rng.choice(list(PRICE_BUCKETS)),
                "rating_min": lambda: rng.choice(["3", "4"]),
                "in_stock": lambda: "1",
            }
            for name in rng.sample(list(filters), rng.randint(1, 3)):
                params[name] = filters[name]()
        else:
            params = {"q": rng.choice([noun, rng.choice(BROAD)]), "sort": rng.choice(["price", "-price"])}
        if rng.random() < 0.1:
            params["page"] = str(rng.randint(2, 5))
        mix.append((kind, params))
    return mix


def run_search(params):
    result = catalog_search.search(SearchRequest.from_params(params, page_size=settings.CATALOG_PAGE_SIZE))
    selectors.products_by_ids(result.ids)
    build_facets(result)
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=600)
    parser.add_argument("--page-sample", type=int, default=100, help="Queries also timed as full pages.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    existing = Product.objects.count()
    if existing < args.products:
        call_command("seed_catalog", products=args.products - existing, seed=args.seed + existing)
    rng = random.Random(args.seed)
    mix = query_mix(rng, args.queries)
    for _, params in mix[:30]:  # warm caches and connections
        run_search(params)

    timings, by_class, totals = [], defaultdict(list), defaultdict(list)
    for kind, params in mix:
        started = time.perf_counter()
        result = run_search(params)
        elapsed = (time.perf_counter() - started) * 1000
        timings.append(elapsed)
        by_class[kind].append(elapsed)
        totals[kind].append(result.total)

    setup_test_environment()
    client = Client()
    pages = []
    for _, params in mix[: args.page_sample]:
        started = time.perf_counter()
        response = client.get("/search/", params)
        pages.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, params

    print(
        json.dumps(
            {
                "products": Product.objects.count(),
                "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
                "backend": catalog_search.get_backend().name,
                "queries": len(timings),
                "p50_ms": round(statistics.median(timings), 1),
                "p95_ms": round(percentile(timings, 0.95), 1),
                "p99_ms": round(percentile(timings, 0.99), 1),
                "max_ms": round(max(timings), 1),
                "page_p50_ms": round(statistics.median(pages), 1),
                "page_p95_ms": round(percentile(pages, 0.95), 1),
                "classes": {
                    kind: {
                        "p50_ms": round(statistics.median(samples), 1),
                        "p95_ms": round(percentile(samples, 0.95), 1),
                        "median_matches": int(statistics.median(totals[kind])),
                    }
                    for kind, samples in by_class.items()
                },
            }
        )
    )


if __name__ == "__main__":
    main()
