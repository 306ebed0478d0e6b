"""Real concurrency on PostgreSQL: many shoppers, one stock, no oversell, no deadlock.

Each thread has its own database connection (Django's are per thread), so the
row locks of catalog.stock are what keeps the shoppers apart. SQLite has no
row locks and serialises whole transactions, so these tests only run on
PostgreSQL (CI runs the suite there).
"""
import random
from datetime import timedelta

import pytest
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from cart import jobs, services
from cart.models import CartLine, Reservation
from catalog.models import Inventory
from tests.concurrency import run_concurrently
from tests.factories import stock_invariant_violations, stocked_product

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for real concurrency"),
]


def test_fifty_shoppers_race_for_ten_units():
    product = stocked_product(6, 4)  # two warehouses, 10 units
    carts = [services.get_or_create_cart().pk for _ in range(50)]

    results, errors = run_concurrently(50, lambda i: services.add_to_cart(carts[i], product.pk, 1))

    assert errors == []
    assert sum(1 for change in results if change.added == 1) == 10
    out_of_stock = [change for change in results if change.added == 0]
    assert len(out_of_stock) == 40 and all(change.short for change in out_of_stock)
    assert sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True)) == 10
    assert CartLine.objects.count() == 10
    assert stock_invariant_violations() == []


def test_mixed_operations_keep_the_books_balanced():
    products = [stocked_product(3, 2), stocked_product(4), stocked_product(1, 1, 1)]
    workers, operations = 8, 40
    carts = [[services.get_or_create_cart().pk for _ in range(2)] for _ in range(workers)]

    def shopper(i):
        rng = random.Random(i)
        for _ in range(operations):
            cart = rng.choice(carts[i])
            # Some operations run "later", so reservations lapse and get taken over.
            now = timezone.now() + timedelta(minutes=rng.choice([0, 0, 0, 31, 62]))
            lines = list(CartLine.objects.filter(cart_id=cart).values_list("pk", flat=True))
            action = rng.choice(["add", "add", "set", "remove", "empty", "expire"])
            if action == "add" or (action in ("set", "remove") and not lines):
                services.add_to_cart(cart, rng.choice(products).pk, rng.randint(1, 3), now=now)
            elif action == "set":
                services.set_quantity(cart, rng.choice(lines), rng.randint(1, 4), now=now)
            elif action == "remove":
                services.remove_line(cart, rng.choice(lines), now=now)
            elif action == "empty":
                services.empty_cart(cart, now=now)
            else:
                jobs.release_expired_reservations(now=now, batch_size=3)
        return operations

    results, errors = run_concurrently(workers, shopper)

    assert errors == []
    assert results == [operations] * workers
    assert stock_invariant_violations() == []
    for line in CartLine.objects.all():
        assert sum(line.reservations.values_list("quantity", flat=True)) <= line.quantity <= 10

    # Once everything has lapsed, an expiry pass gives every unit back.
    jobs.release_expired_reservations(now=timezone.now() + timedelta(days=1))
    assert not Reservation.objects.exists()
    assert set(Inventory.objects.values_list("reserved", flat=True)) == {0}


def test_one_clients_parallel_adds_to_many_carts_and_products_stay_within_its_cap(settings):
    """The cap is counted under a per-client lock: different products' stock locks would not serialise these."""
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 20
    products = [stocked_product(50) for _ in range(12)]
    carts = [services.get_or_create_cart(client="one-address").pk for _ in range(12)]
    elsewhere = services.get_or_create_cart(client="another-address").pk

    results, errors = run_concurrently(12, lambda i: services.add_to_cart(carts[i], products[i].pk, 5))

    assert errors == []
    assert sum(change.added for change in results) == 20
    assert all(change.held_cap for change in results if change.added < 5)
    assert Reservation.objects.aggregate(n=Sum("quantity"))["n"] == 20
    assert stock_invariant_violations() == []
    assert services.add_to_cart(elsewhere, products[0].pk, 5).added == 5  # another client's cap is its own


def test_bundles_naming_the_same_products_in_opposite_orders_neither_deadlock_nor_oversell():
    """``add_bundle`` locks the stock of all its products in one ordered call, whatever order they come in."""
    products = [stocked_product(3, 2) for _ in range(3)]  # 5 units of each, in two warehouses
    ids = [product.pk for product in products]
    carts = [services.get_or_create_cart().pk for _ in range(12)]

    results, errors = run_concurrently(12, lambda i: services.add_bundle(carts[i], ids if i % 2 else ids[::-1]))

    assert errors == []
    changes = [change for bundle in results for change in bundle]
    assert sum(change.added for change in changes) == 15
    assert all(change.short for change in changes if not change.added)
    for product in products:
        assert sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True)) == 5
    assert stock_invariant_violations() == []
