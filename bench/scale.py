"""How cost grows with the catalog: the same benchmarks at each catalog size, and the ratio between the sizes.

    .venv/bin/python bench/scale.py [--sizes 1000000,10000000] [--seed-missing]

For each size the catalog lives in its own database, ``amazon_scale_<size>``
(``amazon_scale_1m``, ``amazon_scale_10m``) on ``--server``, and its own Valkey
database. A database that already holds that many products is reused; one that
does not is seeded with ``manage.py seed_catalog`` (the catalog import's
loader) when ``--seed-missing`` is given, else the run stops. On each it runs,
one after the other on this machine:

* ``search_http.py``: the search page over HTTP through gunicorn (production settings);
* ``search.py``: the search engine in-process;
* ``catalog_pages.py``: category and product pages, in-process (Django's test client);
* ``cart_contention.py``: adds to carts by two concurrent clients;
* ``checkout.py``: checkouts by two concurrent shoppers;

and prints one JSON line per size, then one line of ratios (largest size over
smallest) for each figure. The cart and checkout benches create their own
products inside the large catalog and delete them after.
"""
import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
PYTHON = sys.executable
BENCHES = ["search_http.py", "search.py", "catalog_pages.py", "cart_contention.py", "checkout.py"]


def label(size):
    return f"{size // 1_000_000}m" if size % 1_000_000 == 0 else f"{size // 1000}k"


def run(script, arguments, env):
    """The bench's one JSON line (its last line of output)."""
    started = time.perf_counter()
    done = subprocess.run([PYTHON, str(BENCH / script), *arguments], env=env, cwd=REPO, capture_output=True, text=True)
    if done.returncode != 0:
        # One bench failing at a size is a result (a statement timeout at 10M), not the end of the run.
        print(f"  {script} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
        return {}
    lines = [line for line in done.stdout.splitlines() if line.startswith("{") and '"time"' not in line[:10]]
    print(f"  {script}: {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return json.loads(lines[-1])


def products_in(url):
    import psycopg

    try:
        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as connection:
            return connection.execute("SELECT count(*) FROM catalog_product WHERE is_active").fetchone()[0]
    except psycopg.Error:
        return 0


def ensure_catalog(server, size, env, seed_missing):
    import psycopg

    name = f"amazon_scale_{label(size)}"
    url = f"postgres://{server}/{name}"
    # Seeding adds exactly ``size`` products of which ~1% are inactive: 98% is a full catalog.
    if products_in(url) >= 0.98 * size:
        return url
    if not seed_missing:
        raise SystemExit(f"{name} does not hold {size} products; run with --seed-missing to seed it.")
    with psycopg.connect(f"postgresql://{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    seeding = {**env, "DATABASE_URL": url}
    subprocess.run([PYTHON, "manage.py", "migrate", "--verbosity", "0"], env=seeding, cwd=REPO, check=True)
    started = time.perf_counter()
    subprocess.run(
        [PYTHON, "manage.py", "seed_catalog", "--products", str(size), "--verbosity", "0"], env=seeding, cwd=REPO, check=True
    )
    print(f"  seeded {size} products in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return url


def measure(url, valkey, args):
    env = {**os.environ, "DATABASE_URL": url, "VALKEY_URL": valkey, "SECRET_KEY": "benchmark-only-key"}
    env.pop("DEBUG", None)
    page = run("search_http.py", ["--requests", str(args.requests), "--products", "1"], env)
    engine = run("search.py", ["--products", "1", "--queries", str(args.queries), "--page-sample", "20"], {**env, "DEBUG": "1"})
    pages = run("catalog_pages.py", ["--requests", str(args.page_requests)], {**env, "DEBUG": "1"})
    cart = run("cart_contention.py", ["--clients", "2", "--attempts", "2000"], env)
    checkout = run("checkout.py", ["--clients", "2", "--orders", "300"], env)
    def figure(result, *keys):
        for key in keys:
            result = result.get(key) if isinstance(result, dict) else None
        return result

    return {
        "products": engine.get("products"),
        "search_page_p50_ms": page.get("p50_ms"),
        "search_page_p95_ms": page.get("p95_ms"),
        "search_page_p99_ms": page.get("p99_ms"),
        "search_page_errors": page.get("errors"),
        "suggest_p95_ms": page.get("suggest_p95_ms"),
        "search_engine_p50_ms": engine.get("p50_ms"),
        "search_engine_p95_ms": engine.get("p95_ms"),
        "category_page_p50_ms": figure(pages, "category_page", "p50_ms"),
        "category_page_p95_ms": figure(pages, "category_page", "p95_ms"),
        "product_page_p50_ms": figure(pages, "product_page", "p50_ms"),
        "product_page_p95_ms": figure(pages, "product_page", "p95_ms"),
        "cart_add_p50_ms": cart.get("p50_ms"),
        "cart_add_p95_ms": cart.get("p95_ms"),
        "cart_oversold": cart.get("oversold"),
        "checkout_p50_ms": checkout.get("p50_ms"),
        "checkout_p95_ms": checkout.get("p95_ms"),
        "checkout_oversold": checkout.get("oversold"),
        "failed": [name for name, result in zip(BENCHES, (page, engine, pages, cart, checkout)) if not result],
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--server", default="postgres@127.0.0.1:5432")
    parser.add_argument("--valkey", default="redis://127.0.0.1:6379", help="Valkey server; database 12 + the size's index.")
    parser.add_argument("--seed-missing", action="store_true")
    parser.add_argument("--requests", type=int, default=1000, help="Search pages over HTTP per size.")
    parser.add_argument("--queries", type=int, default=400, help="Engine queries per size.")
    parser.add_argument("--page-requests", type=int, default=200, help="Category and product pages per size.")
    args = parser.parse_args()
    sizes = sorted(int(size) for size in args.sizes.split(","))
    results = {}
    for index, size in enumerate(sizes):
        print(f"{label(size)}:", file=sys.stderr)
        url = ensure_catalog(args.server, size, dict(os.environ), args.seed_missing)
        results[size] = {"size": label(size), **measure(url, f"{args.valkey}/{12 + index}", args)}
        print(json.dumps(results[size]), flush=True)
    small, large = results[sizes[0]], results[sizes[-1]]
    ratios = {
        key: round(large[key] / small[key], 2)
        for key, value in small.items()
        if key.endswith("_ms") and isinstance(value, (int, float)) and value and isinstance(large.get(key), (int, float))
    }
    print(json.dumps({"ratio": f"{large['size']}/{small['size']}", **ratios}))


if __name__ == "__main__":
    main()
