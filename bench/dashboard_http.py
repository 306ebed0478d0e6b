"""The staff dashboard's latency over HTTP: gunicorn with production settings, one staff member, ``/admin/``.

The dashboard is the admin index (``amazon_site/core/dashboard.py``): the
panels each app registers, read on every view. This times what a staff
member waits for: ``GET /admin/`` through gunicorn's sync workers, logged in
with a session cookie (Valkey as cache and sessions), the page rendered, and
the database connections the workers open themselves (persistent, with the
statement timeout and ``jit=off`` of the store's settings). Then the admin
change lists the figures link to, which a staff member opens next.

    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_bench VALKEY_URL=redis://127.0.0.1:6379/11
    .venv/bin/python manage.py seed_catalog --products 1000000     # once; the script never seeds
    .venv/bin/python manage.py seed_orders --orders 1000000
    .venv/bin/python bench/dashboard_http.py [--requests 200] [--list-requests 20] [--workers 3]

The database must hold at least ``--products`` (1,000,000) products and
``--orders`` (1,000,000) orders; the script refuses to run otherwise. It
writes one thing: the staff account ``--username`` (``dashbench``), a
superuser created through the ORM on the first run and given a new random
password on each (so a seeded benchmark database can be shared), besides the
session and log-in rows any log-in writes, and runs ``collectstatic``, as
``DEBUG`` is off. gunicorn starts on a free port of 127.0.0.1
(``bench/served.py``, as ``bench/search_http.py`` does) and is stopped at the
end, also on Ctrl-C. The log-in limits are lifted there
(``RATELIMIT_ENABLED=0``), with the HTTPS-only settings a loopback run over
plain HTTP cannot meet (see ``served.server_env``).

One client logs in as a browser does (``GET /admin/login/`` for the CSRF
cookie and the form's token, ``POST`` of the credentials, a 302 and a session
cookie), then sends the requests one after the other over ``http.client``, so
the numbers are latencies, not throughput. ``--warmup`` (5) dashboards are
requested first and not counted; ``cold_first_ms`` is the first of them, the
first dashboard this gunicorn serves (its worker already answered the log-in;
each worker's first dashboard pays its own imports and connection:
``cold_warmup_max_ms``). Then ``--requests`` (200) dashboards are timed.

A dashboard counts as an error unless it is a 200 holding the figure
``Orders today`` (a log-in page, a 500 or a panel missing are all errors).
The figures' values as the first timed page shows them are in ``figures``.

``lists`` times each distinct change list the figures link to (by the first
figure's label: "Waiting to be packed" is the orders list filtered by
``status__exact=paid``, "Products with fewer than 5 in stock" the product list
filtered by low stock, ...), read from the first timed page's links, plus the
unfiltered order and product lists: one warm-up request each, then
``--list-requests`` (20) timed. A list counts as an error unless it is a 200
with the change list (``id="changelist"``) in it.

Prints one JSON line (progress to stderr, gunicorn's log to ``--log``) with
the PostgreSQL settings as the server has them and as the store's connections
run with them (``SHOW`` inside a Django connection: the workers' options), as
``bench/search_http.py`` reports them. The week's orders are part of the
dashboard's work (its sales are read from an index scan of the week): the
JSON has the UTC time of the run; a Sunday night reads a full week. Timings on
a shared machine are noisy: see ``load_average_after``.
"""
import argparse
import html
import http.client
import json
import os
import re
import secrets
import sys
import tempfile
import time
import urllib.parse
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
if __name__ == "__main__":
    os.environ.setdefault("SECRET_KEY", "dashbench-only-key")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402

from catalog.models import Product  # noqa: E402
from orders.models import Order  # noqa: E402
from served import (  # noqa: E402
    HOST, collectstatic, free_port, gunicorn, percentile, postgres_settings, raise_on_signals, server_env,
)

DASHBOARD = "/admin/"
LOGIN = "/admin/login/"
DASHBOARD_MARK = b"Orders today"  # the orders panel's first figure
CHANGELIST_MARK = b'id="changelist"'
# The change lists not linked from a figure as such, timed as a staff member opens them from the app list.
UNFILTERED_LISTS = {"All orders": "/admin/orders/order/", "All products": "/admin/catalog/product/"}
FIGURE = re.compile(
    r'<th scope="row"><a href="(?P<url>[^"]*)">(?P<label>[^<]*)</a></th>\s*<td class="staff-figure">(?P<value>[^<]*)</td>'
)
CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="(?P<token>[^"]+)"')
USER_AGENT = "dashbench"


def log(message):
    print(f"[dashboard_http] {message}", file=sys.stderr, flush=True)


# --- the database, before gunicorn starts ---


def staff_account(username):
    """The bench's superuser (created on the first run) and a new random password for it."""
    User = get_user_model()
    user, created = User.objects.get_or_create(username=username, defaults={"email": f"{username}@example.com"})
    password = secrets.token_urlsafe(24)
    user.is_staff = user.is_superuser = user.is_active = True
    user.set_password(password)
    user.save()
    log(f"{'created' if created else 'reusing'} superuser {username!r}")
    return password


# --- the client ---


class Client:
    """One staff member's browser over one keep-alive connection, reopened when the server closes it, cookies kept.

    Redirects are not followed: the log-in's 302 is checked, and a dashboard
    answered with a redirect (to the log-in) is an error.
    """

    def __init__(self, port, timeout):
        self.conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
        self.cookies = {}
        self.samples = []  # the first error answers, for stderr

    def request(self, method, path, body=None, headers=None):
        """(status or exception name, headers, body, ms)."""
        headers = {"User-Agent": USER_AGENT, **(headers or {})}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        started = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=headers)
            answer = self.conn.getresponse()
            content = answer.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            return type(error).__name__, None, str(error).encode(), (time.perf_counter() - started) * 1000
        elapsed = (time.perf_counter() - started) * 1000
        for header in answer.headers.get_all("Set-Cookie") or []:
            name, _, value = header.split(";", 1)[0].partition("=")
            self.cookies[name.strip()] = value.strip()
        return answer.status, answer.headers, content, elapsed

    def page(self, path, mark):
        """(ok, body, ms) of a GET: ok when it is a 200 holding ``mark``; the first failures are kept for stderr."""
        status, headers, body, elapsed = self.request("GET", path)
        ok = status == 200 and mark in body
        if not ok and len(self.samples) < 10:
            where = headers.get("Location", "") if headers else ""
            self.samples.append(f"{path}: {status} {where} {body[:200]!r}")
        return ok, body, elapsed

    def log_in(self, username, password):
        """The admin's log-in form as a browser fills it; raises SystemExit unless it ends in a session."""
        query = "?" + urllib.parse.urlencode({"next": DASHBOARD})
        status, _, body, _ = self.request("GET", LOGIN + query)
        token = CSRF_INPUT.search(body.decode("utf-8", "replace")) if status == 200 else None
        if token is None or settings.CSRF_COOKIE_NAME not in self.cookies:
            raise SystemExit(f"GET {LOGIN} answered {status} without a CSRF cookie and token: {body[:300]!r}")
        form = urllib.parse.urlencode(
            {"csrfmiddlewaretoken": token["token"], "username": username, "password": password, "next": DASHBOARD}
        )
        status, headers, body, _ = self.request(
            "POST", LOGIN + query, body=form, headers={"Content-Type": "application/x-www-form-urlencoded"}
        )
        location = headers.get("Location", "") if headers else ""
        session = settings.SESSION_COOKIE_NAME in self.cookies
        if status != 302 or urllib.parse.urlsplit(location).path != DASHBOARD or not session:
            raise SystemExit(f"log-in as {username!r} answered {status} (Location {location!r}): {body[:300]!r}")

    def close(self):
        self.conn.close()


def figures_of(body):
    """[(label, value, url)] of the dashboard's figures, as the page writes them."""
    text = body.decode("utf-8", "replace")
    return [(html.unescape(m["label"]), html.unescape(m["value"]), html.unescape(m["url"])) for m in FIGURE.finditer(text)]


def linked_lists(figures):
    """{name: (url, labels)}: each change list the figures link to, named by its first figure, then the unfiltered ones."""
    lists = {}
    by_url = {}
    for label, _, url in figures:
        if url in by_url:
            lists[by_url[url]][1].append(label)
        else:
            by_url[url] = label
            lists[label] = (url, [label])
    for name, url in UNFILTERED_LISTS.items():
        lists.setdefault(name, (url, []))
    return lists


def ms(value):
    return round(value, 1) if value is not None else None


def summary(latencies):
    ordered = sorted(latencies)
    return {
        "p50_ms": ms(percentile(ordered, 0.50)),
        "p95_ms": ms(percentile(ordered, 0.95)),
        "p99_ms": ms(percentile(ordered, 0.99)),
        "max_ms": ms(ordered[-1]) if ordered else None,
    }


def run_dashboard(client, args):
    """(latencies, errors, warm-up ms, the first timed page's body)."""
    warmup = [client.page(DASHBOARD, DASHBOARD_MARK)[2] for _ in range(args.warmup)]
    latencies, errors, first_body = [], 0, None
    for number in range(args.requests):
        ok, body, elapsed = client.page(DASHBOARD, DASHBOARD_MARK)
        latencies.append(elapsed)
        errors += not ok
        if ok and first_body is None:
            first_body = body
        if (number + 1) % 50 == 0:
            log(f"{number + 1} of {args.requests} dashboards")
    return latencies, errors, warmup, first_body


def run_lists(client, lists, count):
    """Per change list: one warm-up request, then ``count`` timed."""
    results = {}
    for name, (url, labels) in lists.items():
        _, _, first = client.page(url, CHANGELIST_MARK)
        latencies, errors = [], 0
        for _ in range(count):
            ok, _, elapsed = client.page(url, CHANGELIST_MARK)
            latencies.append(elapsed)
            errors += not ok
        result = summary(latencies)
        del result["p99_ms"]  # 20 requests have no 99th percentile to speak of
        results[name] = {"url": url, "figures": labels, "requests": count, **result, "errors": errors, "first_ms": ms(first)}
        log(f"{name}: p50 {result['p50_ms']} ms, p95 {result['p95_ms']} ms, {errors} errors")
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200, help="Dashboards measured.")
    parser.add_argument("--warmup", type=int, default=5, help="Dashboards first requested, not counted.")
    parser.add_argument("--list-requests", type=int, default=20, help="Requests measured per linked change list.")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn sync workers.")
    parser.add_argument("--products", type=int, default=1_000_000, help="Products the catalog must hold at least.")
    parser.add_argument("--orders", type=int, default=1_000_000, help="Orders the database must hold at least.")
    parser.add_argument("--username", default="dashbench", help="The bench's superuser, created if missing.")
    parser.add_argument("--timeout", type=float, default=30, help="Seconds before a request counts as an error.")
    parser.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "dashbench-gunicorn.log"), help="gunicorn's log.")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.VALKEY_URL:
        raise SystemExit("Run against PostgreSQL and Valkey: set DATABASE_URL and VALKEY_URL (see the docstring).")
    if args.requests < 1 or args.warmup < 1 or args.list_requests < 1:
        raise SystemExit("--requests, --warmup and --list-requests must be at least 1.")
    products, orders = Product.objects.count(), Order.objects.count()
    if products < args.products or orders < args.orders:
        raise SystemExit(
            f"The database has {products} products and {orders} orders, fewer than --products {args.products} "
            f"or --orders {args.orders}: run DATABASE_URL=… .venv/bin/python manage.py seed_catalog --products N "
            f"and seed_orders --orders N first."
        )

    raise_on_signals()
    password = staff_account(args.username)
    postgres = postgres_settings(connection)
    connection.close()  # idle through the run

    port = free_port()
    env = server_env(port, args.workers)
    collectstatic(env)
    log(f"starting gunicorn on {HOST}:{port} with {args.workers} workers, log {args.log}")
    started = time.monotonic()
    run_at = datetime.now(UTC)
    with gunicorn(env, port, args.log) as ready:
        log(f"ready in {time.monotonic() - started:.1f} s: {json.dumps(ready['checks'])}")
        client = Client(port, args.timeout)
        try:
            client.log_in(args.username, password)
            log(f"logged in; {args.warmup} + {args.requests} dashboards")
            latencies, errors, warmup, first_body = run_dashboard(client, args)
            figures = figures_of(first_body) if first_body else []
            lists = run_lists(client, linked_lists(figures), args.list_requests)
        finally:
            client.close()
    log("gunicorn stopped")
    for sample in client.samples:
        log(f"error: {sample}")

    result = {
        "products": products,
        "orders": orders,
        "requests": len(latencies),
        "warmup": args.warmup,
        "workers": args.workers,
        **summary(latencies),
        "errors": errors,
        "cold_first_ms": ms(warmup[0]),
        "cold_warmup_max_ms": ms(max(warmup)),
        "run_at_utc": run_at.strftime("%Y-%m-%dT%H:%M:%SZ (%a)"),
        "figures": {label: value for label, value, _ in figures},
        "lists": lists,
        "postgres": postgres,
        "load_average_after": [round(x, 2) for x in os.getloadavg()],  # other work on the machine shows here
        "server_log": args.log,
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
