"""The search page's latency over HTTP: gunicorn with production settings, one shopper, a seeded query mix.

``bench/search.py`` times the search engine inside one process; this times
what a shopper waits for: ``GET /search/?…`` through gunicorn's sync workers,
with the page rendered, Valkey as cache and sessions, and the database
connections the workers open themselves (persistent, with the statement
timeout and ``jit=off`` of the store's settings).

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_bench VALKEY_URL=redis://127.0.0.1:6379/11
    .venv/bin/python manage.py seed_catalog --products 1000000     # once; the script never seeds
    .venv/bin/python bench/search_http.py [--requests 1500] [--workers 3] [--cold [--drop-os-cache]]

The catalog must hold at least ``--products`` (1,000,000) products; the script
refuses to run otherwise. It only reads the database (and runs
``collectstatic``, as ``DEBUG`` is off): a seeded benchmark database can be
shared. gunicorn starts on a free port of 127.0.0.1 (``bench/served.py``, as
``bench/load.py`` does) and is stopped at the end, also on Ctrl-C.

One client sends the requests one after the other over ``http.client`` (it
reconnects by itself when gunicorn's sync workers close the connection after
an answer), so the numbers are latencies, not throughput. The URLs come from
a pool of ``--pool`` distinct query strings built from the real catalog (a
sample of ``--sample`` products read from the database, its brands and
categories, and the vocabulary of ``catalog.seeding``), drawn with a Zipf-like
popularity (weight ``1 / rank ** --zipf``) so that popular searches repeat,
as shoppers' do, while most requests are new. ``repeat_share`` is the share
of measured requests whose exact URL was already requested in the run.

Each URL has one query class, ``one_word``, ``two_words``, ``three_words``
(counted in words of the query), ``broad`` (one word found in a large share of
the catalog: ``BROAD`` and ``COLOURS`` of ``bench/search.py``) or ``browse``
(no query, one category: the category page as a search), and may also be
``filtered`` (category, brand, price bucket, ``rating_min``, ``in_stock``,
attribute filters ``attr_<key>=<value>`` from the product's ``attributes``),
``sorted`` (a sort other than relevance) and ``deep_page`` (pages 2 to 5).
``by_class`` counts a request in each of its classes.

After the page mix, the type-ahead ``GET /search/suggest/?q=<prefix>`` is
timed for ``--suggest`` prefixes, titles and brands typed letter by letter
from two letters on. An answer other than 200 with JSON is a
``suggest_errors``; without a single good answer (the endpoint is not there
yet: 404) its percentiles are null.

``--cold`` measures the first searches after a restart with cold caches: the
Valkey database of VALKEY_URL (that number only: ``FLUSHDB``) is emptied, with
``--drop-os-cache`` and as root the OS page cache is dropped too, and only then
gunicorn starts, so its workers begin with nothing imported lazily, cached or
connected. ``cold_first_ms`` is the first search page, ``cold_first10_max_ms``
the slowest of the first ten (each worker's first request pays its own cold
start); both are part of the warm-up. PostgreSQL is not restarted (it is
shared): its buffers stay as warm as other work left them.

Prints one JSON line (progress to stderr, gunicorn's log to ``--log``) with
the PostgreSQL settings as the server has them and as the store's connections
run with them (``SHOW`` inside a Django connection: the workers' options).
Timings on a shared machine are noisy: see ``load_average_after``.
"""
import argparse
import http.client
import json
import os
import random
import re
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
if __name__ == "__main__":  # not when a test imports the mix: the suite's environment stays its own
    os.environ.setdefault("SECRET_KEY", "searchbench-only-key")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402
import redis  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Max, Min  # noqa: E402
from django.utils.text import slugify  # noqa: E402

from catalog.models import Brand, Category, Product  # noqa: E402
from catalog.search.query import PRICE_BUCKETS  # noqa: E402
from catalog.seeding import ADJECTIVES  # noqa: E402
from search import BROAD, COLOURS, NOUNS  # noqa: E402
from served import (  # noqa: E402
    HOST, collectstatic, free_port, gunicorn, percentile, postgres_settings, raise_on_signals, server_env,
)

QUERY_CLASSES = {"one_word": 30, "two_words": 25, "three_words": 15, "broad": 20, "browse": 10}
CLASSES = ["one_word", "two_words", "three_words", "broad", "filtered", "sorted", "deep_page", "browse"]
FILTERED_SHARE = 0.35  # of searches with words
FILTERS = ["category", "brand", "price", "rating_min", "in_stock", "attr"]
SORT_WEIGHTS = {"relevance": 60, "price": 12, "-price": 10, "rating": 10, "newest": 8}
PAGE_WEIGHTS = {1: 80, 2: 9, 3: 5, 4: 3, 5: 3}
BROAD_WORDS = sorted(set(BROAD) | set(COLOURS))
POOL = 5000  # distinct search URLs
ZIPF = 0.7  # with POOL, about a third of 1,500 requests repeat an earlier URL
COLD_FIRST = 10
SUGGEST_MAX_LETTERS = 12
USER_AGENT = "searchbench"


def log(message):
    print(f"[search_http] {message}", file=sys.stderr, flush=True)


# --- the mix: from the catalog, before gunicorn starts ---


def title_words(title):
    return [word for word in re.findall(r"[a-z]+", title.lower()) if len(word) > 2]


def price_bucket(price):
    """The page's own bucket for a price."""
    for key, (_, low, high) in PRICE_BUCKETS.items():
        if (low is None or price >= low) and (high is None or price < high):
            return key
    raise ValueError(price)


def read_catalog(rng, size):
    """Brands, categories and about ``size`` active products drawn by id, the same ones for a seed and a catalog."""
    span = Product.objects.filter(is_active=True).aggregate(low=Min("id"), high=Max("id"))
    ids = range(span["low"], span["high"] + 1) if span["low"] is not None else range(0)
    products = Product.objects.filter(is_active=True, pk__in=rng.sample(ids, min(size, len(ids)))).order_by("pk")
    fields = ["title", "price", "rating", "attributes", "brand__name", "brand__slug", "category__slug"]
    return {
        "brands": list(Brand.objects.order_by("slug").values_list("name", "slug")),
        "categories": list(Category.objects.order_by("slug").values_list("slug", flat=True)),
        "products": list(products.values(*fields)),
    }


def _window(rng, words, length):
    start = rng.randrange(max(1, len(words) - length + 1))
    return " ".join(words[start:start + length])


def _query(rng, kind, product):
    """Words for a query of ``kind``, from the product's title and brand or the seeding vocabulary."""
    words = title_words(product["title"]) or [product["brand__name"].lower()]
    noun = rng.choice(NOUNS).lower()
    last = noun.split()[-1]
    if kind == "one_word":
        return rng.choice([product["brand__name"].split()[0].lower(), last, rng.choice(words)])
    if kind == "two_words":
        return rng.choice([f"{rng.choice(ADJECTIVES).lower()} {last}", f"{product['brand__name'].split()[0].lower()} {last}",
                           _window(rng, words, 2)])
    if kind == "three_words":
        brand = product["brand__name"].split()[0].lower()
        return rng.choice([f"{brand} {rng.choice(COLOURS)} {last}", _window(rng, words, 3),
                           f"{rng.choice(ADJECTIVES).lower()} {' '.join(noun.split()[-2:])}"])
    return rng.choice(BROAD_WORDS)


def query_class(q):
    """A query's class by what it asks: one broad word, or its number of words."""
    words = q.split()
    if not words:
        return "browse"
    if len(words) == 1 and words[0] in BROAD_WORDS:
        return "broad"
    return ["one_word", "two_words", "three_words"][min(len(words), 3) - 1]


def _filters(rng, product):
    """One to three facets of the product, in the order the page writes them."""
    chosen = set(rng.sample(FILTERS, rng.choice([1, 1, 2, 3])))
    params = []
    if "category" in chosen:
        params.append(("category", product["category__slug"]))
    if "brand" in chosen:
        params.append(("brand", product["brand__slug"]))
    if "price" in chosen:
        params.append(("price", price_bucket(product["price"])))
    if "rating_min" in chosen:
        params.append(("rating_min", "4" if product["rating"] >= 4 else "3"))
    if "in_stock" in chosen:
        params.append(("in_stock", "1"))
    if "attr" in chosen and product["attributes"]:
        keys = sorted(product["attributes"])
        for key in sorted(rng.sample(keys, min(len(keys), rng.choice([1, 1, 2])))):
            # As the facet links write them: the attribute's slug, the value as stored.
            params.append((f"attr_{slugify(key)}", str(product["attributes"][key])))
    return params


def search_entry(rng, catalog):
    """(params, classes) of one search: a query class, maybe facets, a sort, a page."""
    kind = rng.choices(list(QUERY_CLASSES), list(QUERY_CLASSES.values()))[0]
    product = rng.choice(catalog["products"])
    if kind == "browse":
        params = [("category", rng.choice(catalog["categories"]))]
    else:
        params = [("q", _query(rng, kind, product))]
        if rng.random() < FILTERED_SHARE:
            params += _filters(rng, product)
    sort = rng.choices(list(SORT_WEIGHTS), list(SORT_WEIGHTS.values()))[0]
    if sort != "relevance":
        params.append(("sort", sort))
    page = rng.choices(list(PAGE_WEIGHTS), list(PAGE_WEIGHTS.values()))[0]
    if page > 1:
        params.append(("page", str(page)))

    names = {name for name, _ in params}
    classes = [query_class(dict(params).get("q", ""))]
    if kind != "browse" and names - {"q", "sort", "page"}:
        classes.append("filtered")
    if "sort" in names:
        classes.append("sorted")
    if "page" in names:
        classes.append("deep_page")
    return params, classes


def search_url(params):
    return "/search/?" + urllib.parse.urlencode(params)


def search_pool(rng, catalog, size):
    """``size`` distinct search URLs with their classes, most popular first (fewer if the catalog is tiny)."""
    pool, seen = [], set()
    for _ in range(20 * size):
        if len(pool) == size:
            break
        params, classes = search_entry(rng, catalog)
        url = search_url(params)
        if url not in seen:
            seen.add(url)
            pool.append((url, classes))
    return pool


def draw(rng, pool, count, exponent):
    """``count`` (url, classes) from the pool, the entry of rank r with weight 1 / r ** exponent."""
    weights = list(accumulate(1 / rank ** exponent for rank in range(1, len(pool) + 1)))
    return rng.choices(pool, cum_weights=weights, k=count)


def suggest_prefixes(rng, catalog, count):
    """``count`` prefixes as a shopper types them: 2, 3, … letters of a title's start or a brand."""
    prefixes = []
    while len(prefixes) < count:
        product = rng.choice(catalog["products"])
        text = rng.choice([" ".join(title_words(product["title"])[:3]), product["brand__name"].lower()])
        for letters in range(2, min(len(text), SUGGEST_MAX_LETTERS) + 1):
            if len(prefixes) < count and not text[:letters].endswith(" "):  # a space alone changes nothing
                prefixes.append(text[:letters])
    return prefixes


# --- PostgreSQL, Valkey and the OS ---


def flush_valkey():
    """Empty the database number of VALKEY_URL, and nothing else on that server."""
    database = urllib.parse.urlsplit(settings.VALKEY_URL).path.strip("/")
    if not database.isdigit():
        raise SystemExit(f"--cold empties VALKEY_URL's database: name its number, e.g. redis://{HOST}:6379/11")
    redis.Redis.from_url(settings.VALKEY_URL).flushdb()
    log(f"flushed Valkey database {database}")


def drop_os_cache():
    """Drop the page cache (root only); True if it was dropped."""
    if os.geteuid() != 0:
        log("not root: the OS page cache stays")
        return False
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError as error:
        log(f"could not drop the OS page cache: {error}")
        return False
    log("dropped the OS page cache")
    return True


# --- the client ---


class Client:
    """One shopper over one keep-alive connection, reopened when the server closes it, cookies kept."""

    def __init__(self, port, timeout):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies = {}
        self.samples = []  # the first error answers, for stderr

    def get(self, path, *, sample=True):
        """(status or exception name, body, ms); with ``sample``, the first failures are kept for stderr."""
        headers = {"User-Agent": USER_AGENT}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request("GET", path, headers=headers)
            answer = self.conn.getresponse()
            body = answer.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            if sample:
                self._sample(path, type(error).__name__, str(error))
            return type(error).__name__, b"", (time.perf_counter() - started) * 1000
        elapsed = (time.perf_counter() - started) * 1000
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        if answer.status != 200 and sample:
            self._sample(path, answer.status, body[:200])
        return answer.status, body, elapsed

    def _sample(self, path, status, detail):
        if len(self.samples) < 10:
            self.samples.append(f"{path}: {status} {detail!r}")

    def close(self):
        self.conn.close()


def run_searches(client, stream, args):
    """Time the stream; the warm-up's requests are not counted but are remembered as seen."""
    latencies, by_class, seen = [], defaultdict(list), set()
    errors = repeats = 0
    cold = []
    for number, (url, classes) in enumerate(stream):
        status, _, elapsed = client.get(url)
        if args.cold and number < COLD_FIRST:
            cold.append(elapsed)
        if number >= args.warmup:
            latencies.append(elapsed)
            repeats += url in seen
            errors += status != 200
            for kind in classes:
                by_class[kind].append(elapsed)
        seen.add(url)
        if (number + 1) % 250 == 0:
            log(f"{number + 1} of {len(stream)} search requests")
    return latencies, by_class, errors, repeats, cold


def run_suggest(client, prefixes):
    """Type-ahead latencies of good answers (200, JSON) and the count of the others."""
    latencies, failures = [], defaultdict(int)
    for prefix in prefixes:
        status, body, elapsed = client.get("/search/suggest/?" + urllib.parse.urlencode({"q": prefix}), sample=False)
        if status == 200:
            try:
                json.loads(body)
            except ValueError:
                status = "not JSON"
        if status == 200:
            latencies.append(elapsed)
        else:
            failures[status] += 1
    if failures:
        log(f"type-ahead failures by answer: {dict(failures)}")
    return latencies, sum(failures.values())


def ms(value):
    return round(value, 1) if value is not None else None


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1500, help="Search pages measured.")
    parser.add_argument("--warmup", type=int, default=100, help="Search pages first requested, not counted.")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers.")
    parser.add_argument("--products", type=int, default=1_000_000, help="Products the catalog must hold at least.")
    parser.add_argument("--pool", type=int, default=POOL, help="Distinct search URLs the requests are drawn from.")
    parser.add_argument("--zipf", type=float, default=ZIPF, help="Popularity exponent: weight 1 / rank ** zipf.")
    parser.add_argument("--sample", type=int, default=3000, help="Products whose titles and facets make the mix.")
    parser.add_argument("--suggest", type=int, default=300, help="Type-ahead prefixes timed.")
    parser.add_argument("--cold", action="store_true", help="Flush VALKEY_URL's database first; time the first searches.")
    parser.add_argument("--drop-os-cache", action="store_true", help="With --cold, as root: drop the OS page cache too.")
    parser.add_argument("--timeout", type=float, default=30, help="Seconds before a request counts as an error.")
    parser.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "searchbench-gunicorn.log"), help="gunicorn's log.")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.VALKEY_URL:
        raise SystemExit("Run against PostgreSQL and Valkey: set DATABASE_URL and VALKEY_URL (see the docstring).")
    if args.cold and args.warmup < COLD_FIRST:
        raise SystemExit(f"--cold times the first {COLD_FIRST} requests of the warm-up: --warmup must be at least that.")
    if args.drop_os_cache and not args.cold:
        raise SystemExit("--drop-os-cache goes with --cold.")
    products = Product.objects.count()
    if products < args.products:
        raise SystemExit(
            f"The catalog has {products} products, fewer than --products {args.products}: "
            f"run DATABASE_URL=… .venv/bin/python manage.py seed_catalog --products {args.products - products} first."
        )

    raise_on_signals()
    rng = random.Random(args.seed)
    log(f"reading {args.sample} products of {products}, building {args.pool} search URLs")
    catalog = read_catalog(rng, args.sample)
    pool = search_pool(rng, catalog, args.pool)
    stream = draw(rng, pool, args.warmup + args.requests, args.zipf)
    prefixes = suggest_prefixes(rng, catalog, args.suggest)
    postgres = postgres_settings(connection)
    connection.close()  # idle through the run

    port = free_port()
    env = server_env(port, args.workers)
    collectstatic(env)
    os_cache_dropped = None
    if args.cold:
        flush_valkey()
        os_cache_dropped = drop_os_cache() if args.drop_os_cache else False
    log(f"starting gunicorn on {HOST}:{port} with {args.workers} workers, log {args.log}")
    started = time.monotonic()
    with gunicorn(env, port, args.log) as ready:
        log(f"ready in {time.monotonic() - started:.1f} s: {json.dumps(ready['checks'])}")
        client = Client(port, args.timeout)
        try:
            latencies, by_class, errors, repeats, cold = run_searches(client, stream, args)
            log(f"{len(prefixes)} type-ahead requests")
            suggest, suggest_errors = run_suggest(client, prefixes)
        finally:
            client.close()
    log("gunicorn stopped")
    for sample in client.samples:
        log(f"error: {sample}")

    ordered = sorted(latencies)
    suggest.sort()
    result = {
        "products": products,
        "requests": len(latencies),
        "warmup": args.warmup,
        "workers": args.workers,
        "seed": args.seed,
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p95_ms": ms(percentile(ordered, 0.95)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1]),
        "errors": errors,
        "repeat_share": round(repeats / len(latencies), 3),
        "distinct_urls": len(pool),
        "by_class": {
            kind: {
                "count": len(by_class[kind]),
                "p50_ms": ms(percentile(sorted(by_class[kind]), 0.50)),
                "p95_ms": ms(percentile(sorted(by_class[kind]), 0.95)),
            }
            for kind in CLASSES
        },
        "suggest_requests": len(prefixes),
        "suggest_p50_ms": ms(percentile(suggest, 0.50)) if suggest else None,
        "suggest_p95_ms": ms(percentile(suggest, 0.95)) if suggest else None,
        "suggest_errors": suggest_errors,
    }
    if args.cold:
        result.update(cold_first_ms=ms(cold[0]), cold_first10_max_ms=ms(max(cold)), os_cache_dropped=os_cache_dropped)
    result.update(
        postgres=postgres,
        load_average_after=[round(x, 2) for x in os.getloadavg()],  # other work on the machine shows here
        server_log=args.log,
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
