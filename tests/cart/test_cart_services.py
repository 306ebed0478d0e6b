"""The reservation rules of the cart, one behaviour at a time (catalog.stock alone: tests/catalog/test_stock.py)."""
from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from amazon_site.celery import app as celery_app
from cart import jobs, selectors, services, tasks
from cart.forms import AddToCartForm, LineQuantityForm
from cart.models import Cart, CartLine, Reservation
from cart.serializers import AddLineSerializer, LineQuantitySerializer
from catalog.models import Inventory
from tests.factories import (
    InventoryFactory,
    ProductFactory,
    UserFactory,
    WarehouseFactory,
    stock_invariant_violations,
    stocked_product,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def one_hold_time(settings):
    """These rules hold for every cart; one hold time keeps the clock arithmetic readable.

    The visitor's shorter hold has its own test (test_the_reservation_times_are_settings).
    """
    settings.CART_ANON_RESERVATION_MINUTES = settings.CART_RESERVATION_MINUTES


NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def at(minutes):
    return NOW + timedelta(minutes=minutes)


def new_cart():
    return services.get_or_create_cart().pk


def reserved(product):
    return sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True))


def held_by_warehouse(product):
    return {row.warehouse_id: row.quantity for row in Reservation.objects.filter(product=product)}


def test_adding_reserves_stock_until_the_reservation_time_is_up():
    product = stocked_product(5)
    cart = new_cart()

    change = services.add_to_cart(cart, product.pk, 3, now=NOW)

    assert (change.added, change.quantity, change.short, change.limited) == (3, 3, False, False)
    assert reserved(product) == 3
    row = Reservation.objects.get()
    assert (row.quantity, row.reserved_until) == (3, at(30))
    assert stock_invariant_violations() == []


def test_the_reservation_times_are_settings(settings):
    settings.CART_RESERVATION_MINUTES, settings.CART_ANON_RESERVATION_MINUTES = 5, 2
    product = stocked_product(5)
    services.add_to_cart(new_cart(), product.pk, 1, now=NOW)
    services.add_to_cart(services.get_or_create_cart(user=UserFactory()).pk, product.pk, 1, now=NOW)
    assert sorted(Reservation.objects.values_list("reserved_until", flat=True)) == [at(2), at(5)]


def test_allocation_draws_on_the_fullest_warehouse_first_and_may_span_several():
    product = ProductFactory()
    small, large = WarehouseFactory(), WarehouseFactory()
    InventoryFactory(product=product, warehouse=small, quantity=2)
    InventoryFactory(product=product, warehouse=large, quantity=5)
    cart = new_cart()

    services.add_to_cart(cart, product.pk, 3, now=NOW)
    assert held_by_warehouse(product) == {large.pk: 3}

    # Now 2 are left in each: a tie goes to the lower warehouse id, the rest comes from the other.
    services.add_to_cart(cart, product.pk, 3, now=NOW)
    assert held_by_warehouse(product) == {small.pk: 2, large.pk: 4}
    assert CartLine.objects.get().quantity == 6
    assert stock_invariant_violations() == []


def test_short_stock_adds_what_is_left_and_says_so():
    product = stocked_product(1, 1)
    change = services.add_to_cart(new_cart(), product.pk, 5, now=NOW)
    assert (change.added, change.quantity, change.short) == (2, 2, True)
    assert reserved(product) == 2


def test_out_of_stock_adds_nothing():
    product = stocked_product(1)
    services.add_to_cart(new_cart(), product.pk, 1, now=NOW)
    cart = new_cart()

    change = services.add_to_cart(cart, product.pk, 1, now=NOW)

    assert (change.added, change.quantity, change.short) == (0, 0, True)
    assert not CartLine.objects.filter(cart_id=cart).exists()
    assert reserved(product) == 1


def test_a_line_never_exceeds_the_limit():
    product = stocked_product(50)
    cart = new_cart()
    services.add_to_cart(cart, product.pk, 8, now=NOW)

    change = services.add_to_cart(cart, product.pk, 5, now=NOW)
    assert (change.added, change.quantity, change.limited, change.short) == (2, 10, True, False)

    change = services.add_to_cart(cart, product.pk, 1, now=NOW)
    assert (change.added, change.quantity, change.limited) == (0, 10, True)
    assert reserved(product) == 10


@pytest.mark.parametrize("quantity", [0, -1, 11, "3", "abc", 2.5, True, None])
def test_quantities_outside_1_to_the_limit_are_refused(quantity):
    product = stocked_product(50)
    with pytest.raises(services.CartError, match="whole number from 1 to 10"):
        services.add_to_cart(new_cart(), product.pk, quantity, now=NOW)
    assert reserved(product) == 0


@pytest.mark.parametrize("quantity", ["-1", "11", "abc", "", "2.5", None])
def test_the_cart_form_and_the_api_refuse_the_same_quantities_with_one_message(quantity):
    form = LineQuantityForm({} if quantity is None else {"quantity": quantity})
    serializer = LineQuantitySerializer(data={"quantity": quantity})
    assert not form.is_valid() and not serializer.is_valid()
    # A line's new quantity may be 0 (it removes the line); an add's may not.
    assert form.errors["quantity"] == [services.quantity_error(minimum=0)] == serializer.errors["quantity"]


@pytest.mark.parametrize("quantity", ["0", "-1", "11"])
def test_the_add_form_and_the_api_refuse_quantities_below_1(quantity):
    form = AddToCartForm({"product": 1, "quantity": quantity})
    serializer = AddLineSerializer(data={"product": 1, "quantity": quantity})
    assert not form.is_valid() and not serializer.is_valid()
    assert form.errors["quantity"] == [services.quantity_error()] == serializer.errors["quantity"]


def test_the_line_limit_is_a_setting(settings):
    settings.CART_MAX_LINE_QUANTITY = 3
    product = stocked_product(50)
    with pytest.raises(services.CartError, match="from 1 to 3"):
        services.add_to_cart(new_cart(), product.pk, 4, now=NOW)


def test_unknown_and_inactive_products_cannot_be_added():
    hidden = stocked_product(5, is_active=False)
    cart = new_cart()
    for product_id in (hidden.pk, 987654, 2**63, 0, True, "1"):
        with pytest.raises(services.CartError, match="not available"):
            services.add_to_cart(cart, product_id, 1, now=NOW)
    assert not CartLine.objects.exists()
    assert reserved(hidden) == 0


def test_lowering_a_quantity_releases_exactly_the_difference():
    product = ProductFactory()
    InventoryFactory(product=product, quantity=3)
    InventoryFactory(product=product, quantity=3)
    cart = new_cart()
    services.add_to_cart(cart, product.pk, 5, now=NOW)
    line = CartLine.objects.get()

    change = services.set_quantity(cart, line.pk, 2, now=NOW)

    assert (change.quantity, change.short) == (2, False)
    assert reserved(product) == 2
    assert sum(held_by_warehouse(product).values()) == 2
    assert stock_invariant_violations() == []


def test_raising_a_quantity_reserves_what_stock_allows():
    product = stocked_product(4)
    cart = new_cart()
    services.add_to_cart(cart, product.pk, 1, now=NOW)
    line = CartLine.objects.get()

    assert services.set_quantity(cart, line.pk, 3, now=NOW).quantity == 3
    change = services.set_quantity(cart, line.pk, 9, now=NOW)

    assert (change.added, change.quantity, change.short) == (1, 4, True)
    assert reserved(product) == 4


def test_removing_and_emptying_release_everything_held():
    first, second = stocked_product(5), stocked_product(5)
    cart = new_cart()
    services.add_to_cart(cart, first.pk, 2, now=NOW)
    services.add_to_cart(cart, second.pk, 3, now=NOW)

    services.remove_line(cart, CartLine.objects.get(product=first).pk, now=NOW)
    assert (reserved(first), reserved(second)) == (0, 3)

    services.empty_cart(cart, now=NOW)
    assert reserved(second) == 0
    assert not CartLine.objects.exists() and not Reservation.objects.exists()


def test_a_line_of_another_cart_cannot_be_changed():
    product = stocked_product(5)
    owner, other = new_cart(), new_cart()
    services.add_to_cart(owner, product.pk, 2, now=NOW)
    line = CartLine.objects.get()

    for change in (
        lambda: services.set_quantity(other, line.pk, 1, now=NOW),
        lambda: services.remove_line(other, line.pk, now=NOW),
    ):
        with pytest.raises(services.CartError, match="no longer in your cart"):
            change()
    assert CartLine.objects.get().quantity == 2 and reserved(product) == 2


def test_activity_on_the_cart_extends_all_its_reservations():
    first, second = stocked_product(5), stocked_product(5)
    cart = new_cart()
    services.add_to_cart(cart, first.pk, 1, now=NOW)
    services.add_to_cart(cart, second.pk, 1, now=at(20))
    assert set(Reservation.objects.values_list("reserved_until", flat=True)) == {at(50)}


def test_an_expired_reservation_nobody_needed_is_renewed_by_the_next_change():
    product = stocked_product(2)
    cart = new_cart()
    services.add_to_cart(cart, product.pk, 2, now=NOW)

    services.add_to_cart(cart, stocked_product(1).pk, 1, now=at(45))  # a change to another line

    view = selectors.cart_detail(cart, now=at(45))
    assert (view.lines[0].reserved, view.checkout_blocked) == (2, False)
    assert view.lines[0].reserved_until == at(75)


def test_a_shortage_frees_expired_reservations_without_the_beat_task():
    product = stocked_product(2)
    early, late = new_cart(), new_cart()
    services.add_to_cart(early, product.pk, 2, now=NOW)
    assert services.add_to_cart(late, product.pk, 1, now=at(10)).short  # still held by the early cart

    change = services.add_to_cart(late, product.pk, 1, now=at(31))

    assert (change.added, change.short) == (1, False)
    assert reserved(product) == 1
    assert stock_invariant_violations() == []


def test_a_lapsed_line_that_cannot_be_renewed_is_flagged_and_blocks_checkout():
    product = stocked_product(2)
    early, late = new_cart(), new_cart()
    services.add_to_cart(early, product.pk, 2, now=NOW)
    services.add_to_cart(late, product.pk, 1, now=at(31))  # takes one of the lapsed units

    services.add_to_cart(early, stocked_product(1).pk, 1, now=at(32))  # the next change renews what it can: one unit

    view = selectors.cart_detail(early, now=at(32))
    line = view.lines[0]
    assert (line.quantity, line.reserved, line.is_short, view.checkout_blocked) == (2, 1, True, True)
    assert stock_invariant_violations() == []

    services.set_quantity(early, line.line_id, 1, now=at(33))  # the shopper adjusts
    assert not selectors.cart_detail(early, now=at(33)).checkout_blocked


def test_a_deactivated_product_blocks_checkout_and_can_only_be_lowered_or_removed():
    product = stocked_product(5)
    cart = new_cart()
    services.add_to_cart(cart, product.pk, 2, now=NOW)
    product.is_active = False
    product.save()
    line = CartLine.objects.get()

    assert selectors.cart_detail(cart, now=NOW).checkout_blocked
    with pytest.raises(services.CartError, match="no longer available"):
        services.set_quantity(cart, line.pk, 3, now=NOW)
    assert services.set_quantity(cart, line.pk, 1, now=NOW).quantity == 1
    assert reserved(product) == 1


def test_expired_reservations_are_released_in_batches_and_only_once():
    product = stocked_product(20)
    for _ in range(5):
        services.add_to_cart(new_cart(), product.pk, 2, now=NOW)
    fresh = new_cart()
    services.add_to_cart(fresh, product.pk, 3, now=at(20))

    assert jobs.release_expired_reservations(now=at(31), batch_size=2) == 5
    assert jobs.release_expired_reservations(now=at(31), batch_size=2) == 0

    assert reserved(product) == 3
    assert list(Reservation.objects.values_list("line__cart_id", flat=True)) == [fresh]
    assert stock_invariant_violations() == []


def test_the_beat_task_runs_the_service(settings):
    product = stocked_product(5)
    cart = new_cart()
    services.add_to_cart(cart, product.pk, 2, now=timezone.now() - timedelta(minutes=31))

    assert tasks.release_expired_reservations.delay().get() == 1

    assert reserved(product) == 0
    entry = settings.CELERY_BEAT_SCHEDULE["cart-release-expired-reservations"]
    assert entry["task"] in celery_app.tasks


def test_visitors_carts_nobody_can_reach_are_deleted_daily_without_touching_stock(settings):
    product = stocked_product(20)
    long_ago = timezone.now() - timedelta(days=settings.CART_ABANDONED_DAYS + 1)

    def cart_with_line(*, user=None, added=long_ago):
        cart = Cart.objects.create(user=user, created_at=long_ago)
        services.add_to_cart(cart.pk, product.pk, 1, now=added)
        return cart.pk

    abandoned = cart_with_line()
    empty = Cart.objects.create(created_at=long_ago).pk
    accounts = cart_with_line(user=UserFactory())
    returned = cart_with_line(added=timezone.now() - timedelta(days=1))  # the visitor came back lately
    jobs.release_expired_reservations()
    holding = cart_with_line()  # its reservation ran out but was not released yet

    assert tasks.delete_abandoned_carts.delay().get() == 2

    remaining = set(Cart.objects.values_list("pk", flat=True))
    assert abandoned not in remaining and empty not in remaining
    assert {accounts, returned, holding} <= remaining
    assert reserved(product) == 1 and stock_invariant_violations() == []
    entry = settings.CELERY_BEAT_SCHEDULE["carts-delete-abandoned"]
    assert entry["task"] in celery_app.tasks


def test_merging_adds_quantities_within_the_limit_and_keeps_the_stock_held():
    shared, only_visitor = stocked_product(20), stocked_product(5)
    user = UserFactory()
    account = services.get_or_create_cart(user=user).pk
    services.add_to_cart(account, shared.pk, 6, now=NOW)
    visitor = new_cart()
    services.add_to_cart(visitor, shared.pk, 7, now=NOW)
    services.add_to_cart(visitor, only_visitor.pk, 2, now=NOW)

    result = services.merge_carts(source_cart_id=visitor, user=user, now=at(1))

    assert result.cart_id == account
    assert not Cart.objects.filter(pk=visitor).exists()
    quantities = dict(CartLine.objects.filter(cart_id=account).values_list("product_id", "quantity"))
    assert quantities == {shared.pk: 10, only_visitor.pk: 2}
    assert [(change.title, change.requested, change.quantity) for change in result.reduced] == [(shared.title, 13, 10)]
    assert (reserved(shared), reserved(only_visitor)) == (10, 2)
    assert stock_invariant_violations() == []


def test_merging_without_a_visitor_cart_keeps_the_account_cart():
    user = UserFactory()
    assert services.merge_carts(source_cart_id=None, user=user).cart_id is None
    account = services.get_or_create_cart(user=user).pk
    assert services.merge_carts(source_cart_id=123456, user=user).cart_id == account


def test_another_accounts_cart_is_never_merged():
    product = stocked_product(5)
    owner = UserFactory()
    theirs = services.get_or_create_cart(user=owner).pk
    services.add_to_cart(theirs, product.pk, 2, now=NOW)

    services.merge_carts(source_cart_id=theirs, user=UserFactory(), now=NOW)

    assert CartLine.objects.get().cart_id == theirs


def test_every_refusal_carries_its_code():
    product = stocked_product(1)
    cart, short = new_cart(), new_cart()
    services.add_to_cart(short, product.pk, 1, now=NOW)
    CartLine.objects.filter(cart_id=short).update(quantity=2)  # holds 1 of 2, and no stock is left
    refusals = {
        "invalid_quantity": lambda: services.add_to_cart(cart, product.pk, 0),
        "not_available": lambda: services.add_to_cart(cart, 987654, 1),
        "line_not_found": lambda: services.set_quantity(cart, 987654, 1),
        "cart_changed": lambda: services.empty_cart(987654),
        "empty": lambda: services.sell_cart(cart),
        "out_of_stock": lambda: services.sell_cart(short, now=NOW),
    }
    for code, refused in refusals.items():
        with pytest.raises(services.CartError) as error:
            refused()
        assert error.value.code == code
    assert stock_invariant_violations() == []
