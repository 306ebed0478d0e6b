"""Synthetic orders with a planted co-purchase structure, deterministic for a seed.

``manage.py seed_orders`` adds them to a catalog from ``seed_catalog``, for
the offline evaluation and the scale benchmark. Every product has three fixed
complements: two in its own category and one in a linked category
(``LINKED_CATEGORIES``: cameras and cables, cookware and cookbooks, …), picked
by a scrambled position so that a popular product's complements are mostly
long-tail products. An order is an anchor product (a skewed pick, from the
customer's favourite category half the time), often some of its complements,
and sometimes unrelated products; a few are bulk orders over the item cap.

It writes orders and their items directly, bypassing checkout: a data
generator, not a shopper. Stock is not touched (items have no warehouse
allocations), and no payments, timeline entries or outbox events are written.
Order numbers start with ``SYN-`` so synthetic orders are easy to tell apart.
Each batch of orders is one transaction, loaded with COPY on PostgreSQL and one
prepared INSERT per table elsewhere.
"""
import json
import random
import uuid
from array import array
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.db import connection, connections, transaction
from django.utils import timezone

from catalog.models import Category, Product
from orders.models import CancelReason, Order, OrderItem, Status
from orders.pricing import order_totals

# Both directions; names of catalog.seeding.DEPARTMENTS subcategories.
LINKED_CATEGORIES = {
    "Cameras": "Cables & Chargers",
    "Headphones": "Portable Audio",
    "Computer Accessories": "Office Furniture",
    "Smart Home": "Home Decor",
    "Cookware": "Cookbooks",
    "Small Appliances": "Coffee & Tea",
    "Bedding": "Storage",
    "Fiction": "Science Fiction & Fantasy",
    "Writing": "Paper",
    "Children's Books": "Building Toys",
    "Men's Clothing": "Shoes",
    "Women's Clothing": "Accessories",
    "Camping": "Water Sports",
    "Fitness": "Snacks",
    "Cycling": "Outdoor Play",
    "Board Games": "Dolls & Figures",
    "Skin Care": "Fragrance",
    "Hair Care": "Oral Care",
}
ORDERS_PER_CUSTOMER = 5
BATCH_SIZE = 10_000
SPREAD_DAYS = 60  # orders are placed over the last 60 days: all inside the default 90-day window
POPULARITY_SKEW = 3.0  # position = size · u^skew: a few products sell a lot, most rarely
COMPLEMENTS_IN_ORDER = ([0, 1, 2, 3], [20, 40, 28, 12])
UNRELATED_IN_ORDER = ([0, 1, 2], [45, 38, 17])
BULK_ORDER_SHARE = 0.0005
BULK_ORDER_ITEMS = (51, 120)
QUANTITIES = ([1, 2, 3], [85, 12, 3])
STATUSES = (
    [Status.DELIVERED, Status.SHIPPED, Status.PACKED, Status.PAID, Status.PENDING, Status.CANCELLED, Status.RETURNED],
    [60, 12, 4, 10, 2, 9, 3],
)
ADDRESS = {
    "full_name": "Synthetic Customer", "line1": "1 Test Street", "line2": "", "city": "Springfield",
    "postal_code": "12345", "country": "US", "phone": "",
}
CUSTOMER_PREFIX = "seed-customer-"


@dataclass
class Shelf:
    """The active products of one category, by id: positions index all three arrays."""

    ids: array = field(default_factory=lambda: array("q"))
    cents: array = field(default_factory=lambda: array("q"))
    titles: list = field(default_factory=list)
    linked: "Shelf | None" = None

    def complements(self, position) -> list[tuple["Shelf", int]]:
        """Fixed per product: two of its category and one of the linked one, at scrambled positions."""
        scrambled = position * 7919
        found = [(self, (scrambled + offset) % len(self.ids)) for offset in (1, 2)]
        if self.linked is not None:
            found.append((self.linked, (scrambled + 3) % len(self.linked.ids)))
        return [(shelf, at) for shelf, at in found if (shelf, at) != (self, position)]


def seed_orders(orders: int, *, seed: int = 1, progress=None) -> int:
    """Add ``orders`` synthetic orders; returns how many were added."""
    rng = random.Random(seed)
    if connection.vendor == "postgresql":
        # Index builds, bulk inserts and VACUUM over a million rows outlast the
        # request-sized DB_STATEMENT_TIMEOUT_MS, and some cannot run in a
        # transaction (SET LOCAL): lift it for the seeding command's session.
        with connection.cursor() as cursor:
            cursor.execute("SET statement_timeout = 0")
    shelves = _load_shelves()
    if not shelves:
        raise ValueError("The catalog has no active products: run seed_catalog first.")
    customers = _customers(max(1, orders // ORDERS_PER_CUSTOMER))
    weights = [len(shelf.ids) for shelf in shelves]
    now = timezone.now()
    added = 0
    while added < orders:
        size = min(BATCH_SIZE, orders - added)
        order_ids = _reserve_order_ids(size)
        batch_orders, batch_items = [], []
        for order_id in order_ids:
            customer = rng.randrange(len(customers))
            lines = _basket(rng, shelves, weights, favourite=shelves[customer * 2654435761 % len(shelves)])
            status = rng.choices(*STATUSES)[0]
            items = [(shelf, at, rng.choices(*QUANTITIES)[0]) for shelf, at in lines]
            totals = order_totals(Decimal(sum(shelf.cents[at] * quantity for shelf, at, quantity in items)) / 100)
            batch_orders.append((
                order_id, f"SYN-{order_id:016d}", customers[customer], status, uuid.UUID(int=(0x5EED << 64) | order_id),
                ADDRESS, totals.subtotal, totals.shipping, totals.tax, totals.total, "USD",
                _cancel_reason(rng) if status == Status.CANCELLED else "",
                now - timedelta(seconds=rng.uniform(0, SPREAD_DAYS * 86400)),
            ))
            for shelf, at, quantity in items:
                price = Decimal(shelf.cents[at]) / 100
                batch_items.append((order_id, shelf.ids[at], shelf.titles[at], price, quantity, price * quantity, {}))
        with transaction.atomic():
            _write(batch_orders, batch_items)
        added += size
        if progress:
            progress(size)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(f"ANALYZE {Order._meta.db_table}, {OrderItem._meta.db_table}")
    return added


def _load_shelves() -> list[Shelf]:
    by_category = {}
    rows = (
        Product.objects.filter(is_active=True)
        .order_by("category_id", "id")
        .values_list("category_id", "id", "price", "title")
        .iterator(chunk_size=20_000)
    )
    for category_id, product_id, price, title in rows:
        shelf = by_category.setdefault(category_id, Shelf())
        shelf.ids.append(product_id)
        shelf.cents.append(int(price * 100))
        shelf.titles.append(title)
    names = dict(Category.objects.filter(pk__in=by_category).values_list("name", "pk"))
    for one, other in LINKED_CATEGORIES.items():
        if names.get(one) in by_category and names.get(other) in by_category:
            by_category[names[one]].linked = by_category[names[other]]
            by_category[names[other]].linked = by_category[names[one]]
    return list(by_category.values())


def _customers(count) -> list[int]:
    """Ids of ``count`` synthetic customers, created when missing (they cannot log in)."""
    User = get_user_model()
    password = make_password(None)
    names = [f"{CUSTOMER_PREFIX}{n}" for n in range(1, count + 1)]
    for start in range(0, count, BATCH_SIZE):
        batch = names[start : start + BATCH_SIZE]
        User.objects.bulk_create(
            [User(username=name, email=f"{name}@example.com", password=password) for name in batch], ignore_conflicts=True
        )
    ids = dict(User.objects.filter(username__startswith=CUSTOMER_PREFIX).values_list("username", "pk"))
    return [ids[name] for name in names]


def _pick(rng, shelf) -> int:
    return int(len(shelf.ids) * rng.random() ** POPULARITY_SKEW)


def _basket(rng, shelves, weights, *, favourite) -> list[tuple[Shelf, int]]:
    """(shelf, position) of each distinct product of one order."""
    if rng.random() < BULK_ORDER_SHARE:
        count = rng.randint(*BULK_ORDER_ITEMS)
        picked = [(shelf, _pick(rng, shelf)) for shelf in rng.choices(shelves, weights, k=count)]
    else:
        shelf = favourite if rng.random() < 0.5 else rng.choices(shelves, weights)[0]
        anchor = _pick(rng, shelf)
        complements = shelf.complements(anchor)
        wanted = min(rng.choices(*COMPLEMENTS_IN_ORDER)[0], len(complements))
        picked = [(shelf, anchor), *rng.sample(complements, wanted)]
        for other in rng.choices(shelves, weights, k=rng.choices(*UNRELATED_IN_ORDER)[0]):
            picked.append((other, _pick(rng, other)))
    distinct = {}
    for shelf, at in picked:
        distinct.setdefault(shelf.ids[at], (shelf, at))
    return list(distinct.values())


def _cancel_reason(rng) -> str:
    return CancelReason.PAYMENT_FAILED if rng.random() < 0.55 else CancelReason.CUSTOMER


def _reserve_order_ids(count) -> list[int]:
    """Ids for a batch, taken before the insert so items can point at their orders."""
    table = Order._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, %s)", [count]
            )
            return [row[0] for row in cursor.fetchall()]
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        start = cursor.fetchone()[0] + 1
    return list(range(start, start + count))


ORDER_COLUMNS = (
    "id", "number", "user_id", "status", "checkout_key", "shipping_address", "subtotal", "shipping", "tax", "total",
    "currency", "cancel_reason", "created_at",
)
ITEM_COLUMNS = ("order_id", "product_id", "title", "unit_price", "quantity", "line_total", "allocations")
JSON_COLUMNS = {"shipping_address", "allocations"}


def _write(orders, items) -> None:
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model, columns, rows in ((Order, ORDER_COLUMNS, orders), (OrderItem, ITEM_COLUMNS, items)):
                json_at = [i for i, column in enumerate(columns) if column in JSON_COLUMNS]
                with cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
                    for row in rows:
                        row = list(row)
                        for i in json_at:
                            row[i] = json.dumps(row[i])
                        copy.write_row(row)
        return
    # One prepared INSERT per table: bulk_create's model instances and SQL
    # compiled per batch made seeding on SQLite 2.5 times slower.
    db = connections[connection.alias]  # the connection itself: the proxy costs a lookup per value
    with db.cursor() as cursor:
        for model, columns, rows in ((Order, ORDER_COLUMNS, orders), (OrderItem, ITEM_COLUMNS, items)):
            fields = [model._meta.get_field(column) for column in columns]
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(
                f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({placeholders})",
                [[field.get_db_prep_save(value, db) for field, value in zip(fields, row)] for row in rows],
            )
