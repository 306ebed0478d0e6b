"""Checkouts that stop between placing the order and recording its payment, and the job that settles them.

Placing commits the order (its stock sold) before the card is charged; a
process killed, a lost connection or a gateway that never answers leaves the
order pending without a payment row. Here the gateway call fails, which
stops checkout at exactly that point: with an unexpected error (as if the
process died), or with GatewayUnavailable, which the pages and the API
answer with "not confirmed yet".
"""
import importlib
import uuid
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from amazon_site.celery import app as celery_app
from amazon_site.events.models import OutboxEvent
from cart import services as cart_services
from catalog.models import Inventory
from orders import checkout as order_checkout
from orders import fulfilment, tasks
from orders.models import CancelReason, ChargeState, Order, Payment, Status
from orders.payments import GatewayUnavailable, TestGateway
from tests.factories import OrderFactory, UserFactory, stock_invariant_violations, stocked_product
from tests.orders.helpers import ADDRESS, BROKE, DECLINED, GOOD, card, checkout, page_messages, pay_data, to_review

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=16)


def on_shelf(product):
    return sum(Inventory.objects.filter(product=product).values_list("quantity", flat=True))


def unfinished_checkout(shopper, monkeypatch, card=GOOD, *, charged):
    """A checkout whose gateway call fails: before reaching the gateway, or after it charged (the answer lost)."""
    user, cart_id, address = shopper
    product = stocked_product(5, price=Decimal("20.00"))
    cart_services.add_to_cart(cart_id, product.pk, 2)
    real_charge = TestGateway.charge

    def failing_charge(gateway, **kwargs):
        if charged:
            real_charge(gateway, **kwargs)
            raise TimeoutError("the gateway's answer never arrived")
        raise ConnectionError("the gateway could not be reached")

    monkeypatch.setattr(TestGateway, "charge", failing_charge)
    with pytest.raises((TimeoutError, ConnectionError)):
        checkout(user, cart_id, address, card=card)
    monkeypatch.setattr(TestGateway, "charge", real_charge)
    order = Order.objects.get(user=user)
    assert order.status == Status.PENDING and not order.payments.exists()
    assert on_shelf(product) == 3
    return order, product


def test_an_order_nothing_was_charged_for_is_cancelled_and_restocked_after_the_timeout(shopper, monkeypatch):
    order, product = unfinished_checkout(shopper, monkeypatch, charged=False)

    assert order_checkout.settle_unfinished_checkouts() == 0  # its checkout may still be finishing
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, CancelReason.PAYMENT_FAILED)
    assert not order.payments.exists()
    assert on_shelf(product) == 5
    assert order.events.last().note == order_checkout.UNFINISHED_NOTHING_CHARGED
    assert OutboxEvent.objects.filter(topic="orders", key=str(order.pk), payload__type="order.cancelled").exists()
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 0  # settled once
    assert stock_invariant_violations() == []


def test_an_order_whose_charge_went_through_is_paid(shopper, monkeypatch, django_capture_on_commit_callbacks, mailoutbox):
    order, product = unfinished_checkout(shopper, monkeypatch, charged=True)

    with django_capture_on_commit_callbacks(execute=True):
        assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1
    assert [(mail.subject, mail.to) for mail in mailoutbox] == [
        (f"Your order {order.number} is confirmed", ["shopper@example.com"])
    ]

    order.refresh_from_db()
    assert order.status == Status.PAID
    [payment] = order.payments.all()
    assert (payment.kind, payment.outcome, payment.amount) == ("charge", "succeeded", Decimal("40.00"))
    assert on_shelf(product) == 3
    assert order.events.last().note == order_checkout.UNFINISHED_PAID


@pytest.mark.parametrize("card, message", [(DECLINED, "Your card was declined."), (BROKE, "Your card has insufficient funds.")])
def test_an_order_whose_charge_was_declined_is_cancelled_with_the_gateways_answer(shopper, monkeypatch, card, message):
    order, product = unfinished_checkout(shopper, monkeypatch, card, charged=True)

    order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER)

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, CancelReason.PAYMENT_FAILED)
    assert list(order.payments.values_list("outcome", "message")) == [("declined", message)]
    assert on_shelf(product) == 5


def test_a_charge_that_answers_after_the_order_was_settled_is_refunded(shopper, monkeypatch):
    """The gateway is slow enough for the job to cancel the order while the card is being charged."""
    user, cart_id, address = shopper
    product = stocked_product(5, price=Decimal("20.00"))
    cart_services.add_to_cart(cart_id, product.pk, 2)
    real_charge = TestGateway.charge

    def slow_charge(gateway, **kwargs):
        assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1
        return real_charge(gateway, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", slow_charge)
    result = checkout(user, cart_id, address)

    order = Order.objects.get(pk=result.order.pk)
    assert order.status == Status.CANCELLED
    assert sorted(order.payments.values_list("kind", "outcome", "amount")) == [
        ("charge", "succeeded", Decimal("40.00")), ("refund", "succeeded", Decimal("40.00")),
    ]
    assert on_shelf(product) == 5  # restocked once
    assert stock_invariant_violations() == []


def test_the_job_runs_every_five_minutes(settings, shopper, monkeypatch):
    entry = settings.CELERY_BEAT_SCHEDULE["orders-settle-unfinished-checkouts"]
    assert entry["task"] in celery_app.tasks and entry["schedule"] == 300.0
    assert entry["schedule"] == settings.ORDER_SETTLE_INTERVAL_MINUTES * 60
    order, _ = unfinished_checkout(shopper, monkeypatch, charged=False)
    Order.objects.filter(pk=order.pk).update(created_at=timezone.now() - LATER)
    assert tasks.settle_unfinished_checkouts.delay().get() == 1
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED


def test_what_shoppers_are_told_to_wait_follows_the_settling_settings(settings):
    """The job settles an order at its first run past ORDER_UNFINISHED_CHECKOUT_MINUTES: at most one interval later."""
    assert "within about 20 minutes" in order_checkout.payment_unconfirmed_message()
    settings.ORDER_UNFINISHED_CHECKOUT_MINUTES, settings.ORDER_SETTLE_INTERVAL_MINUTES = 30, 10
    assert "within about 40 minutes" in order_checkout.payment_unconfirmed_message()


def test_the_test_gateway_answers_a_retried_charge_with_its_first_answer():
    gateway = TestGateway()
    first = gateway.charge(amount=Decimal("5.00"), currency="USD", card=DECLINED, idempotency_key="order-1")
    retry = gateway.charge(amount=Decimal("5.00"), currency="USD", card=GOOD, idempotency_key="order-1")
    assert retry == first and not retry.succeeded
    assert gateway.find_charge(idempotency_key="order-1") == first
    assert gateway.find_charge(idempotency_key="order-2") is None
    assert Payment.objects.count() == 0


def gateway_does_not_answer(monkeypatch):
    def no_answer(gateway, **kwargs):
        raise GatewayUnavailable("timed out")

    monkeypatch.setattr(TestGateway, "charge", no_answer)


def test_the_checkout_page_says_the_payment_is_not_confirmed_yet_and_the_job_settles_it(client, monkeypatch):
    user = UserFactory()
    client.force_login(user)
    kettle = stocked_product(5, price=Decimal("20.00"))
    review = to_review(client, kettle)
    gateway_does_not_answer(monkeypatch)

    response = client.post("/checkout/review/", pay_data(review), follow=True)

    order = Order.objects.get(user=user)
    assert response.redirect_chain[-1][0] == f"/orders/{order.number}/"
    assert page_messages(response) == [order_checkout.payment_unconfirmed_message()]
    assert order.status == Status.PENDING and "Pending" in response.content.decode()
    again = client.post("/checkout/review/", pay_data(review), follow=True)  # the same form sent again
    assert again.redirect_chain[-1][0] == f"/orders/{order.number}/" and Order.objects.count() == 1
    assert page_messages(again) == [order_checkout.payment_unconfirmed_message()]

    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1
    assert Order.objects.get(pk=order.pk).status == Status.CANCELLED
    assert on_shelf(kettle) == 5


def test_the_api_answers_202_with_the_pending_order(monkeypatch):
    user = UserFactory()
    api = APIClient()
    api.force_authenticate(user)
    kettle = stocked_product(5, price=Decimal("20.00"))
    api.post("/api/cart/lines/", {"product": kettle.pk, "quantity": 1}, format="json")
    total = api.get("/api/checkout/").json()["total"]
    gateway_does_not_answer(monkeypatch)

    response = api.post(
        "/api/checkout/", {"address": ADDRESS, "card": card(), "expected_total": total}, format="json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )

    assert response.status_code == 202
    assert response.json()["detail"] == order_checkout.payment_unconfirmed_message()
    assert response.json()["order"]["status"] == "pending"


def charged_but_unanswered(shopper, monkeypatch):
    """A checkout whose card the gateway charged, and whose answer was then lost (GatewayUnavailable)."""
    user, cart_id, address = shopper
    product = stocked_product(5, price=Decimal("20.00"))
    cart_services.add_to_cart(cart_id, product.pk, 2)
    real_charge = TestGateway.charge

    def charge_then_lose_the_answer(gateway, **kwargs):
        real_charge(gateway, **kwargs)
        raise GatewayUnavailable("the answer was lost")

    monkeypatch.setattr(TestGateway, "charge", charge_then_lose_the_answer)
    result = checkout(user, cart_id, address)
    monkeypatch.setattr(TestGateway, "charge", real_charge)
    assert result.payment_unconfirmed and not result.order.payments.exists()
    return result.order, product


def money_of(order):
    return sorted(order.payments.values_list("kind", "outcome", "amount"))


CHARGED_AND_REFUNDED = [("charge", "succeeded", Decimal("40.00")), ("refund", "succeeded", Decimal("40.00"))]


@pytest.mark.parametrize("who", ["shopper", "staff"])
def test_cancelling_an_order_whose_payment_is_unconfirmed_refunds_the_charge(shopper, monkeypatch, who):
    order, product = charged_but_unanswered(shopper, monkeypatch)

    if who == "shopper":
        fulfilment.cancel_by_customer(user=order.user, order_id=order.pk)
    else:
        fulfilment.cancel_by_staff(order.pk, actor=UserFactory(is_staff=True))

    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert money_of(order) == CHARGED_AND_REFUNDED
    assert on_shelf(product) == 5
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 0  # nothing left to settle
    assert money_of(order) == CHARGED_AND_REFUNDED  # refunded once
    assert stock_invariant_violations() == []


def test_a_cancel_while_the_gateway_is_still_down_is_refunded_by_the_settling_job(shopper, monkeypatch):
    order, product = charged_but_unanswered(shopper, monkeypatch)

    def still_down(gateway, **kwargs):
        raise GatewayUnavailable("still down")

    monkeypatch.setattr(TestGateway, "find_charge", still_down)
    fulfilment.cancel_by_customer(user=order.user, order_id=order.pk)
    order.refresh_from_db()
    assert order.status == Status.CANCELLED and on_shelf(product) == 5
    assert not order.payments.exists()
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 0  # down at the next run too
    monkeypatch.undo()  # the gateway is back

    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, CancelReason.CUSTOMER)
    assert money_of(order) == CHARGED_AND_REFUNDED
    assert on_shelf(product) == 5  # restocked once, by the cancel
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 0
    assert money_of(order) == CHARGED_AND_REFUNDED
    assert stock_invariant_violations() == []


def test_a_cancelled_order_the_gateway_never_charged_is_asked_about_once(shopper, monkeypatch):
    order, product = unfinished_checkout(shopper, monkeypatch, charged=False)
    fulfilment.cancel_by_customer(user=order.user, order_id=order.pk)
    asked = []
    real_find = TestGateway.find_charge

    def find_charge(gateway, **kwargs):
        asked.append(kwargs["idempotency_key"])
        return real_find(gateway, **kwargs)

    monkeypatch.setattr(TestGateway, "find_charge", find_charge)
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1
    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 0

    assert asked == [f"order-{order.number}"]
    assert not order.payments.exists() and on_shelf(product) == 5


def test_the_migration_reopens_past_cancels_of_unconfirmed_payments_for_the_job(shopper, monkeypatch):
    """Orders cancelled before this fix, their charge lost: the job finds and refunds it once deployed."""
    from django.apps import apps

    reopen = importlib.import_module("orders.migrations.0002_charge_state").reopen_cancels_of_unconfirmed_payments
    order, _ = charged_but_unanswered(shopper, monkeypatch)
    fulfilment.cancel_by_customer(user=order.user, order_id=order.pk)
    # As the cancel left it before the fix: no charge row, and nothing marking it open.
    order.payments.all().delete()
    Order.objects.filter(pk=order.pk).update(charge_state=ChargeState.SETTLED)
    declined = OrderFactory(status=Status.CANCELLED, cancel_reason=CancelReason.PAYMENT_FAILED)

    reopen(apps, None)

    assert order_checkout.settle_unfinished_checkouts(now=timezone.now() + LATER) == 1
    assert money_of(order) == CHARGED_AND_REFUNDED
    assert Order.objects.get(pk=declined.pk).charge_state == ChargeState.SETTLED
