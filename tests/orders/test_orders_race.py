"""Real concurrency on PostgreSQL: checkouts racing for the last units, and double submits."""
import threading
import uuid
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from cart import jobs as cart_jobs
from cart import services as cart_services
from catalog import stock
from catalog.models import Inventory
from orders import checkout as order_checkout
from orders.errors import CheckoutError
from orders.models import Order, Payment, Status
from orders.payments import Card, TestGateway
from orders.selectors import checkout_summary
from tests.concurrency import run_concurrently
from tests.factories import UserFactory, stock_invariant_violations, stocked_product
from tests.orders.helpers import ADDRESS as API_ADDRESS
from tests.orders.helpers import card

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for real concurrency"),
]

CARD = Card(TestGateway.SUCCEEDS, 12, 2099, "123")
ADDRESS = {"full_name": "A B", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"}


def shopper_with_lapsed_line(product):
    """A shopper whose cart line lost its reservation: checkout must find stock under the lock."""
    user = UserFactory()
    cart = cart_services.get_or_create_cart(user=user)
    cart_services.add_to_cart(cart.pk, product.pk, 1)
    return user, cart.pk, order_checkout.save_address(user=user, data=ADDRESS)


def test_twenty_checkouts_race_for_the_last_five_units():
    product = stocked_product(20)
    shoppers = [shopper_with_lapsed_line(product) for _ in range(20)]
    totals = [checkout_summary(user=user, cart_id=cart_id).total for user, cart_id, _ in shoppers]
    # Every reservation lapses and is released; then stock drops to 5.
    cart_jobs.release_expired_reservations(now=timezone.now() + timedelta(hours=1))
    stock.set_quantity(Inventory.objects.get(product=product).pk, 5)

    def checkout(i):
        user, cart_id, address = shoppers[i]
        return order_checkout.place_order(
            user=user, cart_id=cart_id, address=address, card=CARD, checkout_key=uuid.uuid4(), expected_total=totals[i]
        )

    results, errors = run_concurrently(20, checkout)

    assert len([r for r in results if r is not None]) == 5
    assert len(errors) == 15 and all(isinstance(error, CheckoutError) for error in errors)
    assert Order.objects.filter(status=Status.PAID).count() == 5
    row = Inventory.objects.get(product=product)
    assert (row.quantity, row.reserved) == (0, 0)
    assert stock_invariant_violations() == []


def test_a_double_click_places_one_order_and_charges_once():
    product = stocked_product(3)
    user, cart_id, address = shopper_with_lapsed_line(product)
    total = checkout_summary(user=user, cart_id=cart_id).total
    key = uuid.uuid4()

    results, errors = run_concurrently(
        4,
        lambda i: order_checkout.place_order(
            user=user, cart_id=cart_id, address=address, card=CARD, checkout_key=key, expected_total=total
        ),
    )

    assert errors == []
    assert len({result.order.pk for result in results}) == 1
    assert Order.objects.count() == 1
    assert Payment.objects.filter(kind="charge", outcome="succeeded").count() == 1
    assert Inventory.objects.get(product=product).quantity == 2


def test_checkouts_sent_with_one_key_while_the_first_is_charging_are_told_to_retry(monkeypatch):
    """Three API requests, one Idempotency-Key; the gateway holds the first charge until the other two have answered."""
    product = stocked_product(3)
    user = UserFactory()
    api = APIClient()
    api.force_authenticate(user)
    api.post("/api/cart/lines/", {"product": product.pk, "quantity": 1}, format="json")
    total = api.get("/api/checkout/").json()["total"]
    key = str(uuid.uuid4())
    real_charge, charges = TestGateway.charge, []
    lock, others_answered, answered = threading.Lock(), threading.Event(), []

    def held_charge(gateway, **kwargs):
        charges.append(kwargs["idempotency_key"])
        assert others_answered.wait(timeout=60), "the other requests never answered"  # a liveness bound only
        return real_charge(gateway, **kwargs)

    def request(i):
        client = APIClient()
        client.force_authenticate(user)
        response = client.post(
            "/api/checkout/", {"address": API_ADDRESS, "card": card(), "expected_total": total}, format="json",
            headers={"Idempotency-Key": key},
        )
        if response.status_code != 201:  # not the one charging
            with lock:
                answered.append(i)
                if len(answered) == 2:
                    others_answered.set()
        return response

    monkeypatch.setattr(TestGateway, "charge", held_charge)
    results, errors = run_concurrently(3, request)

    assert errors == []
    assert sorted(response.status_code for response in results) == [201, 409, 409]
    for retry in [response for response in results if response.status_code == 409]:
        assert retry["Retry-After"] == str(order_checkout.CHARGE_IN_PROGRESS_RETRY_SECONDS)
        assert retry.json()["detail"] == order_checkout.payment_in_progress_message()
    assert len(charges) == 1
    assert Order.objects.get().status == Status.PAID
    assert Payment.objects.filter(kind="charge").count() == 1
    assert Inventory.objects.get(product=product).quantity == 2
    assert stock_invariant_violations() == []
