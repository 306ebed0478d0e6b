"""Checkout through the API: the same services as the pages, once per Idempotency-Key."""
import logging
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from django.views.debug import ExceptionReporter
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cart import services as cart_services
from cart.models import Reservation
from catalog.models import Inventory
from orders import checkout as order_checkout
from orders.models import Address, Order, Payment, Status
from orders.payments import TestGateway
from tests.factories import UserFactory, stock_invariant_violations, stocked_product
from tests.orders.helpers import ADDRESS, card

pytestmark = pytest.mark.django_db

@pytest.fixture
def shopper():
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    client.user = user
    return client


@pytest.fixture
def product():
    return stocked_product(5)


def fill_cart(client, product, quantity=2):
    assert client.post("/api/cart/lines/", {"product": product.pk, "quantity": quantity}, format="json").status_code == 200
    return client.get("/api/checkout/").json()["total"]


def checkout(client, total, key="new", **body):
    """POST /api/checkout/ with a new key, the given one, or (None) none."""
    key = uuid.uuid4() if key == "new" else key
    headers = {} if key is None else {"Idempotency-Key": str(key)}
    return client.post(
        "/api/checkout/", {"address": ADDRESS, "card": card(), "expected_total": total, **body}, format="json", headers=headers
    )


def on_shelf(product):
    return [(row.quantity, row.reserved) for row in Inventory.objects.filter(product=product)]


def test_the_summary_says_what_checkout_would_charge(shopper, product):
    fill_cart(shopper, product)

    summary = shopper.get("/api/checkout/").json()
    lines = [(line["product_id"], line["quantity"], line["line_total"]) for line in summary["lines"]]
    assert lines == [(product.pk, 2, "39.98")]
    assert summary["subtotal"] == "39.98" and summary["shipping"] == "0.00" and summary["total"] == "39.98"
    assert summary["blocked"] is False and summary["addresses"] == []


def test_checkout_places_the_order_and_a_retry_with_its_key_gets_the_same_answer(shopper, product):
    """How the Idempotency-Key gets to checkout; the double submit itself is tested once, in test_orders_services."""
    total = fill_cart(shopper, product)
    key = uuid.uuid4()

    placed = checkout(shopper, total, key)
    assert placed.status_code == 201
    order = placed.json()
    assert order["status"] == "paid" and order["total"] == total and order["shipping_address"] == ADDRESS
    assert [(item["product_id"], item["quantity"]) for item in order["items"]] == [(product.pk, 2)]
    assert order["payments"][0]["card_last4"] == "4242"
    assert on_shelf(product) == [(3, 0)]
    assert shopper.get("/api/cart/").json()["lines"] == []

    again = checkout(shopper, total, key)
    assert again.status_code == 201 and again.json()["number"] == order["number"]
    assert stock_invariant_violations() == []


def test_a_saved_address_is_reused_by_its_id(shopper, product):
    address = Address.objects.create(user=shopper.user, **ADDRESS)
    total = fill_cart(shopper, product)
    assert shopper.get("/api/checkout/").json()["addresses"][0]["id"] == address.pk

    body = {"card": card(), "expected_total": total, "address_id": address.pk}
    placed = shopper.post("/api/checkout/", body, format="json", headers={"Idempotency-Key": str(uuid.uuid4())})
    assert placed.status_code == 201 and Address.objects.count() == 1


def test_a_declined_card_is_a_402_and_the_items_go_back_to_the_cart(shopper, product):
    total = fill_cart(shopper, product)

    declined = checkout(shopper, total, card=card(TestGateway.DECLINED))
    assert declined.status_code == 402
    body = declined.json()
    assert body["detail"] == "Your card was declined." and body["code"] == "payment_declined"
    assert body["order"]["status"] == "cancelled" and body["order"]["cancel_reason"] == "payment_failed"
    [line] = shopper.get("/api/cart/").json()["lines"]
    assert line["quantity"] == 2 and line["reserved"] == 2
    assert on_shelf(product) == [(5, 2)]
    assert stock_invariant_violations() == []


@pytest.mark.parametrize("key", [None, "", "not-a-uuid"])
def test_checkout_needs_a_uuid_idempotency_key(shopper, product, key):
    total = fill_cart(shopper, product)

    refused = checkout(shopper, total, key)
    assert refused.status_code == 400 and list(refused.json()["errors"]) == ["Idempotency-Key"]
    assert not Order.objects.exists()


def test_the_card_is_checked_and_never_echoed_or_logged(shopper, product, caplog):
    total = fill_cart(shopper, product)
    mistyped = "4242 4242 4242 4241"

    with caplog.at_level(logging.DEBUG):
        refused = checkout(shopper, total, card=card(mistyped))
        expired = checkout(shopper, total, card=card(exp_year=timezone.localdate().year - 1))
        placed = checkout(shopper, total)
    assert refused.status_code == 400 and refused.json()["errors"] == {"card.number": ["Enter a valid card number."]}
    assert set(expired.json()["errors"]) == {"card.exp_year"}
    assert placed.status_code == 201
    for text in [response.content.decode() for response in (refused, expired, placed)] + [caplog.text]:
        assert TestGateway.SUCCEEDS not in text.replace(" ", "") and "4242424242424241" not in text.replace(" ", "")


def test_an_address_is_validated_field_by_field(shopper, product):
    total = fill_cart(shopper, product)

    refused = checkout(shopper, total, address={**ADDRESS, "country": "Britain", "city": ""})
    assert refused.status_code == 400 and set(refused.json()["errors"]) == {"address.country", "address.city"}
    neither = shopper.post(
        "/api/checkout/",
        {"card": card(), "expected_total": total},
        format="json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert neither.json()["errors"] == {"non_field_errors": ["Send either address or address_id."]}
    theirs = Address.objects.create(user=UserFactory(), **ADDRESS)
    other = shopper.post(
        "/api/checkout/",
        {"card": card(), "expected_total": total, "address_id": theirs.pk},
        format="json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert other.json()["errors"] == {"address_id": ["Choose one of your addresses."]}


def test_what_the_cart_does_not_allow_is_a_409_with_the_lines_to_fix(shopper, product):
    total = fill_cart(shopper, product)

    changed = checkout(shopper, "1.00")
    assert changed.status_code == 409 and "the total is now 39.98" in changed.json()["detail"]
    assert changed.json()["code"] == "price_changed"
    # The shopper's reservation lapses and another cart takes all the stock.
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))
    cart_services.add_to_cart(cart_services.get_or_create_cart().pk, product.pk, 5)
    short = checkout(shopper, total)
    assert short.status_code == 409 and short.json()["lines"] == [product.title]
    assert short.json()["code"] == "out_of_stock"
    assert not Order.objects.exists()


def test_an_empty_cart_is_a_409_and_anonymous_visitors_cannot_check_out(client, shopper):
    empty = checkout(shopper, "0.00")
    assert empty.status_code == 409
    assert empty.json() == {"detail": "Your cart is empty.", "code": "cart_empty", "lines": []}
    assert client.post("/api/checkout/", {}, content_type="application/json").status_code == 403
    assert Order.objects.filter(status=Status.PAID).count() == 0


def test_the_error_report_of_a_failed_checkout_hides_the_card(shopper, product, monkeypatch, caplog):
    total = fill_cart(shopper, product)

    def crash(**kwargs):
        raise RuntimeError("the gateway fell over")

    monkeypatch.setattr("orders.checkout.place_order", crash)
    shopper.raise_request_exception = False
    assert checkout(shopper, total).status_code == 500

    # The error mail's HTML report (AdminEmailHandler with include_html) lists every frame's variables.
    [record] = [record for record in caplog.records if record.exc_info]
    report = ExceptionReporter(record.request, *record.exc_info, is_email=True).get_traceback_html()
    assert "the gateway fell over" in report and "orders/api.py" in report
    assert TestGateway.SUCCEEDS not in report


def test_a_retry_while_the_first_request_is_charging_is_told_to_ask_again(shopper, product, monkeypatch):
    total = fill_cart(shopper, product)
    key = uuid.uuid4()
    real_charge, retries = TestGateway.charge, []

    def charge_while_retried(gateway, **kwargs):
        retries.append(checkout(shopper, total, key))  # the client's timeout fired; it sends the request again
        return real_charge(gateway, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", charge_while_retried)
    placed = checkout(shopper, total, key)

    [retry] = retries
    assert retry.status_code == 409 and retry["Retry-After"] == str(order_checkout.CHARGE_IN_PROGRESS_RETRY_SECONDS)
    assert retry.json() == {"detail": order_checkout.payment_in_progress_message(), "code": "in_progress", "lines": []}
    assert placed.status_code == 201 and placed.json()["status"] == "paid"
    assert checkout(shopper, total, key).json()["number"] == placed.json()["number"]  # asked again: the order
    assert Payment.objects.filter(kind=Payment.Kind.CHARGE).count() == 1
