"""Property-based: random sequences of cart operations and clock moves against a
simple model of the reservation rules, with the stock invariants checked after
every step.

The model keeps, per cart and product, the line quantity and the units held,
and per cart one expiry time (every operation on a cart extends all of its
reservations). It knows nothing of warehouses, rows or locks.
"""
from collections import defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from cart import jobs, services
from cart.models import CartLine, Reservation
from catalog.models import Inventory
from tests.factories import InventoryFactory, ProductFactory, WarehouseFactory, stock_invariant_violations

START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PRODUCTS = 2
CARTS = 3
quantities = st.integers(min_value=1, max_value=settings.CART_MAX_LINE_QUANTITY)


class CartModel:
    def __init__(self, stock):
        self.stock = stock  # product index -> units in all warehouses
        self.lines = {}  # (cart, product) -> quantity wanted
        self.holds = defaultdict(int)  # (cart, product) -> units held, expired or not
        self.expires = {}  # cart -> when its reservations run out

    def held_of(self, product):
        return sum(units for (_, p), units in self.holds.items() if p == product)

    def reserve(self, cart, product, wanted, now):
        """Take up to ``wanted``; on a shortage other carts' expired holds of the product go first."""
        if wanted <= 0:
            return 0
        if self.stock[product] - self.held_of(product) < wanted:
            for (other, p) in list(self.holds):
                if p == product and other != cart and self.expires.get(other, now) <= now:
                    self.holds[(other, p)] = 0
        taken = min(wanted, self.stock[product] - self.held_of(product))
        self.holds[(cart, product)] += taken
        return taken

    def touch(self, cart, now):
        """Any operation: extend the cart's reservations, then refill its short lines."""
        self.expires[cart] = now + timedelta(minutes=settings.CART_RESERVATION_MINUTES)
        for (c, product), quantity in list(self.lines.items()):
            if c == cart:
                self.reserve(cart, product, quantity - self.holds[(cart, product)], now)

    def drop(self, cart, product):
        self.lines.pop((cart, product), None)
        self.holds[(cart, product)] = 0


class CartMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        # Every example runs in a savepoint that teardown rolls back.
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = START

    def teardown(self):
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    @initialize(stock=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 6)), min_size=PRODUCTS, max_size=PRODUCTS))
    def create_store(self, stock):
        warehouses = WarehouseFactory.create_batch(2)
        self.products = []
        for first, second in stock:
            product = ProductFactory()
            InventoryFactory(product=product, warehouse=warehouses[0], quantity=first)
            InventoryFactory(product=product, warehouse=warehouses[1], quantity=second)
            self.products.append(product.pk)
        self.carts = [services.get_or_create_cart().pk for _ in range(CARTS)]
        self.model = CartModel([first + second for first, second in stock])

    def line_id(self, cart, product):
        return CartLine.objects.filter(cart_id=self.carts[cart], product_id=self.products[product]).values_list(
            "pk", flat=True
        ).first()

    @rule(cart=st.integers(0, CARTS - 1), product=st.integers(0, PRODUCTS - 1), quantity=quantities)
    def add(self, cart, product, quantity):
        change = services.add_to_cart(self.carts[cart], self.products[product], quantity, now=self.now)

        model = self.model
        model.touch(cart, self.now)
        current = model.lines.get((cart, product), 0)
        holding = model.holds[(cart, product)]
        target = min(current + quantity, settings.CART_MAX_LINE_QUANTITY)
        added = model.reserve(cart, product, target - holding, self.now)
        if added:
            model.lines[(cart, product)] = holding + added
        assert (change.added, change.quantity) == (added, model.lines.get((cart, product), 0))

    @rule(cart=st.integers(0, CARTS - 1), product=st.integers(0, PRODUCTS - 1), quantity=quantities)
    def set_quantity(self, cart, product, quantity):
        line_id = self.line_id(cart, product)
        if line_id is None:
            return
        change = services.set_quantity(self.carts[cart], line_id, quantity, now=self.now)

        model = self.model
        model.touch(cart, self.now)
        holding = model.holds[(cart, product)]
        if quantity < holding:
            model.holds[(cart, product)] = quantity
        else:
            model.reserve(cart, product, quantity - holding, self.now)
        if model.holds[(cart, product)]:
            model.lines[(cart, product)] = model.holds[(cart, product)]
        else:
            model.drop(cart, product)
        assert change.quantity == model.lines.get((cart, product), 0)

    @rule(cart=st.integers(0, CARTS - 1), product=st.integers(0, PRODUCTS - 1))
    def remove(self, cart, product):
        line_id = self.line_id(cart, product)
        if line_id is None:
            return
        services.remove_line(self.carts[cart], line_id, now=self.now)
        self.model.touch(cart, self.now)
        self.model.drop(cart, product)

    @rule(cart=st.integers(0, CARTS - 1))
    def empty(self, cart):
        services.empty_cart(self.carts[cart], now=self.now)
        self.model.touch(cart, self.now)
        for product in range(PRODUCTS):
            self.model.drop(cart, product)

    @rule(minutes=st.sampled_from([1, 10, 29, 30, 31, 45]))
    def clock_moves(self, minutes):
        self.now += timedelta(minutes=minutes)

    @rule()
    def expiry_pass(self):
        jobs.release_expired_reservations(now=self.now, batch_size=2)
        for (cart, product) in list(self.model.holds):
            if self.model.expires.get(cart, self.now) <= self.now:
                self.model.holds[(cart, product)] = 0

        assert not Reservation.objects.filter(reserved_until__lte=self.now).exists()
        unexpired = Reservation.objects.filter(reserved_until__gt=self.now).aggregate(n=Sum("quantity"))["n"] or 0
        assert Inventory.objects.aggregate(n=Sum("reserved"))["n"] == unexpired

    @invariant()
    def stock_books_balance(self):
        if not hasattr(self, "model"):
            return
        assert stock_invariant_violations() == []
        for index, product in enumerate(self.products):
            reserved = Inventory.objects.filter(product_id=product).aggregate(n=Sum("reserved"))["n"]
            assert reserved == self.model.held_of(index)

    @invariant()
    def lines_match_the_model(self):
        if not hasattr(self, "model"):
            return
        lines = {
            (self.carts.index(cart), self.products.index(product)): quantity
            for cart, product, quantity in CartLine.objects.filter(cart_id__in=self.carts).values_list(
                "cart_id", "product_id", "quantity"
            )
        }
        assert lines == self.model.lines
        held = {
            (self.carts.index(cart), self.products.index(product)): units
            for cart, product, units in Reservation.objects.filter(line__cart_id__in=self.carts)
            .values_list("line__cart_id", "product_id")
            .annotate(units=Sum("quantity"))
        }
        assert held == {key: units for key, units in self.model.holds.items() if units}
        assert all(held.get(key, 0) <= quantity for key, quantity in lines.items())


@pytest.mark.django_db
def test_reservations_follow_the_model(settings):
    settings.CART_ANON_RESERVATION_MINUTES = settings.CART_RESERVATION_MINUTES  # the model has one hold time
    run_state_machine_as_test(
        CartMachine,
        settings=hypothesis_settings(
            max_examples=60,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
