"""Type-ahead latency over HTTP: gunicorn on 127.0.0.1, real titles and brands typed letter by letter.

Starts gunicorn as ``bench/load.py`` does (production settings, its own port,
``--workers`` sync workers), empties the Valkey cache first so answers start
cold, then types ``--terms`` strings (titles of random active products, the
long tail too, and brand names, ``--brand-share`` of them) one letter at a
time, up to ``--max-chars`` characters, one request at a time, as a shopper's
box sends them: every prefix of two or more characters, ``GET /search/suggest/?q=``.
Prints one JSON line: p50/p95/p99/max in ms over all requests and split into
first asks of a normalised prefix (a cache miss) and repeats (a hit).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_bench VALKEY_URL=redis://127.0.0.1:6379/13
    .venv/bin/python manage.py refresh_typeahead     # once, if the catalog was seeded before the type-ahead existed
    .venv/bin/python bench/suggest_http.py [--terms 500] [--max-chars 30] [--workers 2]
"""
import argparse
import asyncio
import json
import random
import shutil
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load  # noqa: E402  (sets up Django; its gunicorn and HTTP helpers are reused)

from django.core.cache import cache  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402

from catalog.models import Product, TypeaheadEntry  # noqa: E402
from catalog.search.query import words_of  # noqa: E402


def terms(rng, count, brand_share):
    brands = list(TypeaheadEntry.objects.filter(kind="brand").values_list("label", flat=True))
    picked = rng.sample(brands, min(len(brands), round(count * brand_share)))
    # Titles of random active products of the whole catalog, the long tail too
    # (the type-ahead holds only the most reviewed of them).
    ids = Product.objects.aggregate(first=Min("id"), last=Max("id"))
    while ids["first"] is not None and len(picked) < count:
        sample = rng.sample(range(ids["first"], ids["last"] + 1), count - len(picked))
        picked += Product.objects.filter(pk__in=sample, is_active=True).values_list("title", flat=True)
    rng.shuffle(picked)
    return picked


async def type_all(port, typed, max_chars):
    seen, timings = set(), {"miss": [], "hit": []}
    for text in typed:
        for end in range(2, min(len(text), max_chars) + 1):
            prefix = text[:end]
            key = " ".join(words_of(prefix))
            started = time.perf_counter()
            answer = await load.http(port, "GET", "/search/suggest/?" + urllib.parse.urlencode({"q": prefix}))
            elapsed = (time.perf_counter() - started) * 1000
            if answer.status != 200:
                raise SystemExit(f"{answer.status} for {prefix!r}: {answer.body[:200]!r}")
            timings["hit" if key in seen else "miss"].append(elapsed)
            seen.add(key)
    return timings


def summary(values):
    ordered = sorted(values)
    return {
        "requests": len(ordered),
        "p50_ms": round(load.percentile(ordered, 0.50), 2),
        "p95_ms": round(load.percentile(ordered, 0.95), 2),
        "p99_ms": round(load.percentile(ordered, 0.99), 2),
        "max_ms": round(ordered[-1], 2) if ordered else 0.0,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--terms", type=int, default=500, help="Titles and brand names to type.")
    parser.add_argument("--brand-share", type=float, default=0.1)
    parser.add_argument("--max-chars", type=int, default=30, help="Characters typed of each.")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", default="/tmp/suggest-gunicorn.log", help="gunicorn's log.")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not load.settings.VALKEY_URL:
        raise SystemExit("Run against PostgreSQL and Valkey: set DATABASE_URL and VALKEY_URL (see the docstring).")
    typed = terms(random.Random(args.seed), args.terms, args.brand_share)
    if not typed:
        raise SystemExit("No type-ahead entries: run manage.py refresh_typeahead first.")
    cache.clear()
    connection.close()
    port = load.free_port()
    env = load.server_env(port, args.workers)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=load.REPO, env=env, check=True)
    with open(args.log, "ab") as log_file:
        process = load.start_server(env, log_file)
        try:
            asyncio.run(load.wait_ready(port, process))
            timings = asyncio.run(type_all(port, typed, args.max_chars))
        finally:
            load.stop_server(process)
            shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
    print(json.dumps({
        "entries": TypeaheadEntry.objects.count(),
        "terms": len(typed),
        "all": summary(timings["miss"] + timings["hit"]),
        "cache_miss": summary(timings["miss"]),
        "cache_hit": summary(timings["hit"]),
        "load_average_after": [round(n, 2) for n in load.os.getloadavg()],
    }))


if __name__ == "__main__":
    main()
