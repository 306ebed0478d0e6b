"""Loopback load test: gunicorn on 127.0.0.1 against PostgreSQL and Valkey, a shopper mix, then an audit.

Starts gunicorn itself (the repo's ``gunicorn.conf.py``, sync workers,
``--workers`` of them, default 2 x CPUs + 1 as in production) on a free port
of 127.0.0.1, waits for ``/readyz``, runs ``--users`` virtual shoppers for
``--warmup`` + ``--duration`` seconds, stops gunicorn (also on Ctrl-C or an
error) and audits the database. Prints one JSON line: requests/s overall and,
per endpoint class, count, requests/s, p50/p95/p99 ms, errors and refused;
then the audit. Progress and the first error answers go to stderr; gunicorn's
access and error log to ``--log``.

    createdb -h 127.0.0.1 -U postgres amazon_loadbench
    export DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_loadbench VALKEY_URL=redis://127.0.0.1:6379/9
    .venv/bin/python manage.py migrate
    .venv/bin/python manage.py seed_catalog --products 100000      # about 40 s
    .venv/bin/python bench/load.py [--users 16] [--duration 60] [--workers N] [--log /tmp/load-gunicorn.log]

The catalog must hold at least ``--products`` (100,000) products; the script
refuses to run otherwise instead of seeding behind your back. Use a database
and a Valkey database number of their own: before each run the script empties
its shoppers' carts, puts small stock on its "hot" products and runs
``collectstatic`` (``DEBUG`` is off, so pages need the static manifest).

Each virtual shopper loops without think time (a closed loop: the numbers are
the most this machine serves at that concurrency), picking a step by weight:

- 70% browse, as an anonymous visitor with its own session cookie: home page
  (15%), a category page (35%; page 1 mostly, up to page 20, any sort), a
  product page (50%) of 5,000 products sampled over the whole catalog;
- 20% search (``/search/``): one or two words of a real title, with each facet
  of that product (``category``, ``brand``, ``price`` bucket, ``rating_min``,
  ``in_stock=1``) added with some probability, a sort, sometimes page 2;
- 8% cart changes through the REST API with the account's token: add (50%),
  change a line's quantity (30%), remove a line (20%; without lines, an add);
- 2% checkout through the REST API: fill an empty cart, ``GET /api/checkout/``
  for the total, ``POST /api/checkout/`` with a new ``Idempotency-Key``, a
  saved address and the test gateway's good card (``--decline-share`` of them,
  5%, use the declined card, to exercise cancellation and restock). After a
  paid order the virtual shopper moves on to its next account.

Shoppers are ``--shoppers`` (200) accounts ``loadbench-N`` with a DRF token and
a saved address, created in the database on the first run; each virtual user
owns every ``--users``-th of them, so no two share a cart. Cart adds pick one
of ``--hot`` (100) products 60% of the time; their stock is reset before each
run to 0-3 units per warehouse (on top of what carts hold), so they sell out
during the run and the oversell audit has something to check.

Answers the shop is expected to give are "refused", not errors: 400 from the
cart, 402 (a declined card), 409 from checkout (a line short of stock), and an
add that got nothing because the product sold out. Errors are 5xx, other
statuses, connection failures and timeouts (``--timeout``, 30 s).

Production settings for gunicorn (``DEBUG=0``, Valkey cache and sessions,
persistent connections, statement timeout), with these lifted for a load test
from one address over plain HTTP: ``RATELIMIT_ENABLED=0`` (log-in, sign-up and
20 checkouts/min per account), ``API_THROTTLE_ANON``/``API_THROTTLE_USER``
``1000000/min`` (100/min per address and 1000/min per account otherwise),
``SECURE_SSL_REDIRECT=0``, ``SESSION_COOKIE_SECURE=0``, ``CSRF_COOKIE_SECURE=0``,
``SECURE_HSTS_SECONDS=0``. No ``CELERY_BROKER_URL``: tasks (the order
confirmation mail) run eagerly in the web workers, mail to the dummy backend;
``LOG_LEVEL=WARNING`` so eager tasks do not log every run at INFO. Static
files are not requested (a CDN or the web server in front serves them).

The client is a purpose-written HTTP/1.1 client on asyncio streams, about 60
lines: gunicorn's sync workers close the connection after every answer, so
there is no pooling to gain from httpx, and on a 2-core machine shared with
gunicorn and PostgreSQL the client must cost as little CPU per request as
possible. No dependency is added.

Besides the numbers, the JSON line holds ``statuses`` per endpoint class (what
the shop answered, or the client-side exception), ``client_cpu_share`` (this
script's CPU while measuring, as a share of one core: it competes with the
server on the same machine) and ``load_average_after`` (other work on the
machine shows here and makes the numbers worse). Requests of the warm-up are
not counted, but its orders are audited.

Audit, in SQL after gunicorn has stopped (all must be 0, else exit status 1):

- ``oversold``: units sold in the run beyond the product's stock at the start,
  plus units of inventory rows outside ``0 <= reserved <= quantity``;
- ``books_unbalanced``: inventory rows whose quantity did not drop by exactly
  the units the run's kept orders took from them (declined orders restock);
- ``orphan_reservations``: reservation rows whose cart line or cart is gone;
- ``reserved_mismatch``: inventory rows whose ``reserved`` is not the sum of
  their reservation rows;
- ``orders_without_payment``: orders placed in the run with no payment row;
- ``paid_without_charge``: orders paid in the run without a successful charge.
"""
import argparse
import asyncio
import json
import os
import random
import resource
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from datetime import date
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
os.environ.setdefault("SECRET_KEY", "loadbench-only-key")
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.dummy.EmailBackend")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from cart import services as cart_services  # noqa: E402
from cart.models import Cart  # noqa: E402
from catalog.models import Category, Product  # noqa: E402
from catalog.selectors import BROWSE_SORTS  # noqa: E402
from orders.models import Address  # noqa: E402
from orders.payments import TestGateway  # noqa: E402
from served import (  # noqa: E402
    HOST, add_shopper_arguments, collectstatic, free_port, gunicorn, percentile, raise_on_signals, server_env,
)

MIX = {"browse": 70, "search": 20, "cart": 8, "checkout": 2}
BROWSE = {"home": 15, "category": 35, "product": 50}
CART = {"add": 50, "update": 30, "remove": 20}
HOT_SHARE = 0.6  # of cart adds
SEARCH_SORTS = ["relevance", "relevance", "relevance", "price", "-price", "rating", "newest"]
ADDRESS = {"full_name": "Load Shopper", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"}
CLASSES = [
    "home", "category", "product", "search", "cart_add", "cart_update", "cart_remove", "cart_view",
    "checkout_review", "checkout",
]


def log(message):
    print(f"[load] {message}", file=sys.stderr, flush=True)


def cpu_seconds():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def price_bucket(price):
    return "lt25" if price < 25 else "25-50" if price < 50 else "50-100" if price < 100 else "gte100"


# --- setup, in the database, before gunicorn starts ---


def sample_catalog(rng, size):
    """``size`` active products spread over the catalog, with what search facets need."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT p.id, p.slug, p.title, p.price, p.rating, b.slug, c.slug
            FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id JOIN catalog_category c ON c.id = p.category_id
            WHERE p.is_active ORDER BY md5(p.id::text || %s) LIMIT %s
            """,
            [str(rng.random()), size],
        )
        rows = cursor.fetchall()
    return [
        {"id": pk, "url": f"/p/{pk}/{slug}/", "title": title, "price": float(price), "rating": float(rating or 0),
         "brand": brand, "category": category}
        for pk, slug, title, price, rating, brand, category in rows
    ]


def ensure_shoppers(count):
    """``count`` accounts with a token and a saved address: [(token, address id)]."""
    User = get_user_model()
    shoppers = []
    for i in range(count):
        user, created = User.objects.get_or_create(username=f"loadbench-{i}", defaults={"email": f"loadbench-{i}@example.com"})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        token, _ = Token.objects.get_or_create(user=user)
        address = Address.objects.filter(user=user).first() or Address.objects.create(user=user, **ADDRESS)
        shoppers.append({"user_id": user.pk, "token": token.key, "address_id": address.pk})
    return shoppers


def empty_carts(user_ids):
    """Release what earlier runs left in the shoppers' carts, through the cart service."""
    removed = 0
    for cart in Cart.objects.filter(user_id__in=user_ids).prefetch_related("lines"):
        for line in list(cart.lines.all()):
            cart_services.remove_line(cart.pk, line.pk)
            removed += 1
    return removed


def stock_hot_products(rng, product_ids):
    """Small stock on the hot products: 0-3 units per warehouse on top of what carts hold."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM catalog_inventory WHERE product_id = ANY(%s) ORDER BY id", [product_ids])
        rows = [row for (row,) in cursor.fetchall()]
        for row in rows:
            cursor.execute("UPDATE catalog_inventory SET quantity = reserved + %s WHERE id = %s", [rng.randint(0, 3), row])
    return len(rows)


def inventory_snapshot():
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, product_id, warehouse_id, quantity FROM catalog_inventory")
        return {row[0]: row[1:] for row in cursor.fetchall()}


def db_now():
    with connection.cursor() as cursor:
        cursor.execute("SELECT now()")
        return cursor.fetchone()[0]


# --- the client: HTTP/1.1 over asyncio streams, one connection per request ---


class Answer:
    __slots__ = ("status", "headers", "body")

    def __init__(self, status, headers, body):
        self.status, self.headers, self.body = status, headers, body

    def json(self):
        return json.loads(self.body)


async def http(port, method, path, *, headers=None, body=None, cookies=None, timeout=30.0):
    async def exchange():
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}", "Connection: close", "User-Agent: loadbench"]
            lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
            if cookies:
                lines.append("Cookie: " + "; ".join(f"{name}={value}" for name, value in cookies.items()))
            payload = b""
            if body is not None:
                payload = json.dumps(body).encode()
                lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
            writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
            await writer.drain()
            raw = await reader.read(-1)  # the sync worker closes the connection after the answer
        finally:
            writer.close()
        head, _, rest = raw.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        parsed = []
        for line in header_lines:
            name, _, value = line.partition(":")
            parsed.append((name.strip().lower(), value.strip()))
        found = dict(parsed)
        if "content-length" in found:
            rest = rest[: int(found["content-length"])]
        elif found.get("transfer-encoding", "").lower() == "chunked":
            rest = dechunk(rest)
        if cookies is not None:
            for name, value in parsed:
                if name == "set-cookie":
                    key, _, val = value.split(";", 1)[0].partition("=")
                    cookies[key.strip()] = val.strip()
        return Answer(status, found, rest)

    return await asyncio.wait_for(exchange(), timeout)


def dechunk(data):
    out = bytearray()
    while data:
        size_line, _, data = data.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += data[:size]
        data = data[size + 2:]
    return bytes(out)


class Stats:
    def __init__(self):
        self.latencies = {name: [] for name in CLASSES}
        self.errors = Counter()
        self.refused = Counter()
        self.statuses = {name: Counter() for name in CLASSES}
        self.samples = []  # first error answers, for stderr
        self.measuring = False
        self.cpu_started = self.cpu_used = 0.0  # the client's own CPU while measuring

    def record(self, kind, outcome, ms):
        """A measured answer: its status, or the client-side exception's name."""
        self.latencies[kind].append(ms)
        self.statuses[kind][outcome] += 1


class Abort(Exception):
    """The run's time is up, or a request failed: the step stops here."""


class Shopper:
    """One virtual user: an anonymous browsing session, and its accounts taking turns at the cart."""

    def __init__(self, index, args, port, catalog, hot, categories, accounts, stats, deadline):
        self.rng = random.Random(args.seed * 1000 + index)
        self.args, self.port, self.catalog, self.hot, self.categories = args, port, catalog, hot, categories
        self.accounts, self.turn = accounts, 0
        self.lines = {}  # account token -> {line id: quantity}
        self.cookies = {}
        self.stats, self.deadline = stats, deadline

    @property
    def account(self):
        return self.accounts[self.turn % len(self.accounts)]

    async def call(self, kind, method, path, *, expect=(200,), refuse=(), api=False, body=None, headers=None):
        if time.monotonic() >= self.deadline:
            raise Abort
        stats = self.stats
        request_headers = dict(headers or {})
        if api:
            request_headers["Authorization"] = f"Token {self.account['token']}"
            request_headers["Accept"] = "application/json"
        measured = stats.measuring
        started = time.perf_counter()
        try:
            answer = await http(
                self.port, method, path, headers=request_headers, body=body,
                cookies=None if api else self.cookies, timeout=self.args.timeout,
            )
        except (OSError, asyncio.TimeoutError, ValueError, IndexError) as error:
            if measured:
                stats.errors[kind] += 1
                stats.record(kind, type(error).__name__, (time.perf_counter() - started) * 1000)
            if len(stats.samples) < 10:
                stats.samples.append(f"{kind} {method} {path}: {type(error).__name__} {error}")
            raise Abort from error
        if measured:
            stats.record(kind, answer.status, (time.perf_counter() - started) * 1000)
        if answer.status in expect:
            return answer
        if answer.status in refuse:
            if measured:
                stats.refused[kind] += 1
            return answer
        if measured:
            stats.errors[kind] += 1
        if len(stats.samples) < 10:
            request_id = answer.headers.get("x-request-id", "")
            stats.samples.append(f"{kind} {method} {path}: {answer.status} [{request_id}] {answer.body[:300]!r}")
        raise Abort

    async def run(self):
        weights = list(MIX.values())
        while time.monotonic() < self.deadline:
            step = self.rng.choices(list(MIX), weights)[0]
            try:
                await getattr(self, step)()
            except Abort:
                pass
            except (ValueError, KeyError, TypeError) as error:  # an answer we could not read: the shop's fault
                if self.stats.measuring:
                    self.stats.errors[step] += 1
                if len(self.stats.samples) < 10:
                    self.stats.samples.append(f"{step}: unreadable answer, {type(error).__name__} {error}")

    # browse and search: anonymous pages with the session cookie

    async def browse(self):
        page = self.rng.choices(list(BROWSE), list(BROWSE.values()))[0]
        if page == "home":
            await self.call("home", "GET", "/")
        elif page == "category":
            number = 1 if self.rng.random() < 0.6 else self.rng.randint(2, 20)
            query = urllib.parse.urlencode({"sort": self.rng.choice(list(BROWSE_SORTS)), "page": number})
            await self.call("category", "GET", f"/c/{self.rng.choice(self.categories)}/?{query}")
        else:
            await self.call("product", "GET", self.rng.choice(self.catalog)["url"])

    async def search(self):
        rng, product = self.rng, self.rng.choice(self.catalog)
        words = [word for word in product["title"].split() if len(word) > 2 and word.isalpha()] or product["title"].split()
        start = rng.randrange(len(words))
        params = [("q", " ".join(words[start:start + rng.choice([1, 1, 2])]).lower())]
        if rng.random() < 0.3:
            params.append(("category", product["category"]))
        if rng.random() < 0.3:
            params.append(("brand", product["brand"]))
        if rng.random() < 0.3:
            params.append(("price", price_bucket(product["price"])))
        if rng.random() < 0.15 and product["rating"] >= 3:
            params.append(("rating_min", "4" if product["rating"] >= 4 else "3"))
        if rng.random() < 0.3:
            params.append(("in_stock", "1"))
        sort = rng.choice(SEARCH_SORTS)
        if sort != "relevance":
            params.append(("sort", sort))
        if rng.random() < 0.1:
            params.append(("page", "2"))
        await self.call("search", "GET", "/search/?" + urllib.parse.urlencode(params))

    # cart and checkout: the REST API with the account's token

    def _remember(self, cart):
        self.lines[self.account["token"]] = {line["id"]: line for line in cart["lines"]}

    def _my_lines(self):
        return self.lines.setdefault(self.account["token"], {})

    async def add(self):
        pick = self.rng.choice(self.hot) if self.rng.random() < HOT_SHARE else self.rng.choice(self.catalog)["id"]
        body = {"product": pick, "quantity": self.rng.choice([1, 1, 1, 2])}
        answer = await self.call("cart_add", "POST", "/api/cart/lines/", api=True, body=body, refuse=(400,))
        if answer.status == 200:
            data = answer.json()
            self._remember(data["cart"])
            if data["change"]["added"] == 0 and data["change"]["short"] and self.stats.measuring:
                self.stats.refused["cart_add"] += 1  # sold out: the shop said so

    async def cart(self):
        action = self.rng.choices(list(CART), list(CART.values()))[0]
        lines = self._my_lines()
        if action == "add" or not lines:
            await self.add()
        elif action == "update":
            line_id = self.rng.choice(list(lines))
            body = {"quantity": self.rng.randint(1, 4)}
            answer = await self.call("cart_update", "PATCH", f"/api/cart/lines/{line_id}/", api=True, body=body, refuse=(400,))
            if answer.status == 200:
                self._remember(answer.json()["cart"])
        else:
            line_id = self.rng.choice(list(lines))
            await self.call("cart_remove", "DELETE", f"/api/cart/lines/{line_id}/", api=True, expect=(204,))
            lines.pop(line_id, None)

    async def fix_cart(self):
        """After a refused checkout: read the cart, drop the lines that block it."""
        cart = (await self.call("cart_view", "GET", "/api/cart/", api=True)).json()
        self._remember(cart)
        for line in cart["lines"]:
            if line["blocks_checkout"]:
                await self.call("cart_remove", "DELETE", f"/api/cart/lines/{line['id']}/", api=True, expect=(204,))
                self._my_lines().pop(line["id"], None)

    async def checkout(self):
        if not self._my_lines():
            for _ in range(self.rng.choice([1, 1, 2])):
                await self.add()
        summary = (await self.call("checkout_review", "GET", "/api/checkout/", api=True)).json()
        if summary["blocked"] or not summary["lines"]:
            await self.fix_cart()
            return
        declined = self.rng.random() < self.args.decline_share
        card = {"number": TestGateway.DECLINED if declined else TestGateway.SUCCEEDS, "exp_month": 12,
                "exp_year": date.today().year + 3, "cvc": "123"}
        body = {"address_id": self.account["address_id"], "card": card, "expected_total": summary["total"]}
        answer = await self.call(
            "checkout", "POST", "/api/checkout/", api=True, body=body, expect=(201,), refuse=(402, 409),
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        if answer.status == 201:
            self._my_lines().clear()
            self.turn += 1  # the next of this virtual user's accounts shops now
        elif answer.status == 402:
            self._remember((await self.call("cart_view", "GET", "/api/cart/", api=True)).json())
        else:
            await self.fix_cart()


async def drive(args, port, catalog, hot, categories, shoppers, stats, during=None):
    """Run the shoppers; ``during``, a coroutine function, runs beside them from the start of measuring."""
    started = time.monotonic()
    measure_from = started + args.warmup
    deadline = measure_from + args.duration
    users = [
        Shopper(i, args, port, catalog, hot, categories, shoppers[i::args.users], stats, deadline)
        for i in range(args.users)
    ]
    tasks = [asyncio.create_task(user.run()) for user in users]
    if args.warmup:
        await asyncio.sleep(args.warmup)
    stats.measuring = True
    measure_started = time.monotonic()
    stats.cpu_started = cpu_seconds()
    log(f"measuring for {args.duration} s")
    if during is not None:
        tasks.append(asyncio.create_task(during()))
    await asyncio.gather(*tasks)
    stats.measuring = False
    stats.cpu_used = cpu_seconds() - stats.cpu_started
    return time.monotonic() - measure_started


# --- audit, after gunicorn has stopped ---


def audit(run_started, user_ids, start_inventory):
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT coalesce(sum(greatest(reserved - quantity, 0) + greatest(-quantity, 0) + greatest(-reserved, 0)), 0),
                   count(*) FILTER (WHERE quantity < 0 OR reserved < 0 OR reserved > quantity)
            FROM catalog_inventory
            """
        )
        bad_units, bad_rows = cursor.fetchone()
        # Units the run's kept orders took, per inventory row (a declined or cancelled order restocked its units).
        cursor.execute(
            """
            SELECT i.product_id, i.allocations, i.quantity FROM orders_orderitem i JOIN orders_order o ON o.id = i.order_id
            WHERE o.created_at >= %s AND o.user_id = ANY(%s) AND o.status NOT IN ('cancelled', 'returned')
            AND i.product_id IS NOT NULL
            """,
            [run_started, user_ids],
        )
        taken, sold = Counter(), Counter()
        for product_id, allocations, quantity in cursor.fetchall():
            sold[product_id] += quantity
            if isinstance(allocations, str):  # Django reads jsonb as text through a raw cursor
                allocations = json.loads(allocations)
            for warehouse_id, units in allocations.items():
                taken[(product_id, int(warehouse_id))] += units
        start_stock = Counter()
        for product_id, _, quantity in start_inventory.values():
            if product_id in sold:
                start_stock[product_id] += quantity
        oversold = int(bad_units) + sum(max(0, units - start_stock[product_id]) for product_id, units in sold.items())
        cursor.execute("SELECT id, product_id, warehouse_id, quantity FROM catalog_inventory")
        now_inventory = {row[0]: row[1:] for row in cursor.fetchall()}
        unbalanced = 0
        for row_id, (product_id, warehouse_id, quantity) in start_inventory.items():
            end = now_inventory.pop(row_id, (None, None, 0))[2]
            if quantity - end != taken.get((product_id, warehouse_id), 0):
                unbalanced += 1
        unbalanced += len(now_inventory)  # rows that appeared during the run

        cursor.execute(
            """
            SELECT count(*) FROM cart_reservation r LEFT JOIN cart_cartline l ON l.id = r.line_id
            LEFT JOIN cart_cart c ON c.id = l.cart_id WHERE l.id IS NULL OR c.id IS NULL
            """
        )
        orphans = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM catalog_inventory i FULL JOIN (
                SELECT product_id, warehouse_id, sum(quantity) AS units FROM cart_reservation GROUP BY 1, 2
            ) r ON r.product_id = i.product_id AND r.warehouse_id = i.warehouse_id
            WHERE coalesce(i.reserved, -1) <> coalesce(r.units, 0)
            """
        )
        mismatch = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM orders_payment p WHERE p.order_id = o.id)),
                   count(*) FILTER (WHERE o.status = 'paid' AND NOT EXISTS (
                       SELECT 1 FROM orders_payment p WHERE p.order_id = o.id AND p.kind = 'charge' AND p.outcome = 'succeeded')),
                   count(*), count(*) FILTER (WHERE o.status = 'paid'),
                   count(*) FILTER (WHERE o.status = 'cancelled'), count(*) FILTER (WHERE o.status = 'pending')
            FROM orders_order o WHERE o.created_at >= %s AND o.user_id = ANY(%s)
            """,
            [run_started, user_ids],
        )
        no_payment, paid_no_charge, orders, paid, cancelled, pending = cursor.fetchone()
        cursor.execute(
            "SELECT count(*) FROM catalog_inventory i JOIN catalog_product p ON p.id = i.product_id "
            "WHERE p.id = ANY(%s) GROUP BY p.id HAVING sum(i.quantity - i.reserved) = 0",
            [list(sold) or [0]],
        )
        sold_out = len(cursor.fetchall())
    checks = {
        "oversold": oversold,
        "books_unbalanced": unbalanced,
        "orphan_reservations": orphans,
        "reserved_mismatch": mismatch,
        "orders_without_payment": no_payment,
        "paid_without_charge": paid_no_charge,
    }
    info = {
        "invalid_inventory_rows": bad_rows, "orders": orders, "paid": paid, "cancelled": cancelled,
        "pending": pending, "units_sold": sum(sold.values()), "products_sold": len(sold),
        "sold_products_now_unavailable": sold_out,
    }
    return checks, info


def summarise(stats, elapsed):
    endpoints, total = {}, 0
    for kind in CLASSES:
        samples = sorted(stats.latencies[kind])
        if not samples:
            continue
        total += len(samples)
        endpoints[kind] = {
            "count": len(samples),
            "per_s": round(len(samples) / elapsed, 1),
            "p50_ms": round(percentile(samples, 0.50), 1),
            "p95_ms": round(percentile(samples, 0.95), 1),
            "p99_ms": round(percentile(samples, 0.99), 1),
            "errors": stats.errors[kind],
            "refused": stats.refused[kind],
            "statuses": {str(status): n for status, n in sorted(stats.statuses[kind].items(), key=str)},
        }
    return total, endpoints


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_shopper_arguments(parser)
    parser.add_argument("--duration", type=float, default=60, help="Seconds measured.")
    parser.add_argument("--products", type=int, default=100_000, help="Products the catalog must hold at least.")
    parser.add_argument("--log", default=os.path.join(tempfile.gettempdir(), "loadbench-gunicorn.log"), help="gunicorn's log.")
    args = parser.parse_args()
    if connection.vendor != "postgresql" or not settings.VALKEY_URL:
        raise SystemExit("Run against PostgreSQL and Valkey: set DATABASE_URL and VALKEY_URL (see the docstring).")
    if args.shoppers < args.users:
        raise SystemExit("--shoppers must be at least --users.")
    products = Product.objects.count()
    if products < args.products:
        raise SystemExit(
            f"The catalog has {products} products, fewer than --products {args.products}: "
            f"run manage.py seed_catalog --products {args.products - products} first."
        )

    raise_on_signals()
    rng = random.Random(args.seed)
    log("preparing: catalog sample, shoppers, carts, hot stock, collectstatic")
    catalog = sample_catalog(rng, args.sample)
    hot = [product["id"] for product in catalog[: args.hot]]
    categories = list(Category.objects.values_list("slug", flat=True))
    shoppers = ensure_shoppers(args.shoppers)
    user_ids = [shopper["user_id"] for shopper in shoppers]
    emptied = empty_carts(user_ids)
    stocked = stock_hot_products(rng, hot)
    log(f"emptied {emptied} cart lines, stocked {stocked} inventory rows of {len(hot)} hot products")

    port = free_port()
    env = server_env(port, args.workers)
    collectstatic(env)
    start_inventory = inventory_snapshot()
    run_started = db_now()
    connection.close()  # idle through the run; the audit opens a new one

    log(f"starting gunicorn on {HOST}:{port} with {args.workers} workers, log {args.log}")
    stats = Stats()
    try:
        with gunicorn(env, port, args.log) as ready:
            log(f"ready: {json.dumps(ready['checks'])}")
            elapsed = asyncio.run(drive(args, port, catalog, hot, categories, shoppers, stats))
    finally:
        log("gunicorn stopped")
    for sample in stats.samples:
        log(f"error: {sample}")

    checks, info = audit(run_started, user_ids, start_inventory)
    total, endpoints = summarise(stats, elapsed)
    print(
        json.dumps(
            {
                "products": products,
                "duration_s": round(elapsed, 1),
                "users": args.users,
                "workers": args.workers,
                "requests": total,
                "per_s": round(total / elapsed, 1),
                "errors": sum(stats.errors.values()),
                "refused": sum(stats.refused.values()),
                "load_average_after": [round(x, 2) for x in os.getloadavg()],  # other work on the machine shows here
                "client_cpu_share": round(stats.cpu_used / elapsed, 2),  # of one core
                "endpoints": endpoints,
                "audit": checks,
                "orders": info,
                "server_log": args.log,
            }
        )
    )
    if any(checks.values()):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
