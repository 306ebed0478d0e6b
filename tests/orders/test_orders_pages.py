"""What a shopper sees of checkout and orders, and what staff do with orders in the admin."""
import re
from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from cart import services as cart_services
from cart.models import CartLine, Reservation
from catalog.models import Product
from orders import checkout
from orders.models import Address, Order, OrderEvent, Payment, Status
from orders.payments import TestGateway
from tests.factories import PASSWORD, OrderFactory, UserFactory, order_with_item, stocked_product
from tests.orders.helpers import DECLINED_CARD, add, address_data, page_messages, pay_data, to_review

pytestmark = pytest.mark.django_db

DECLINED_MESSAGE = (
    "Payment declined: Your card was declined. Nothing was charged and your items are reserved again. "
    "Please try another card."
)

@pytest.fixture
def shopper(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def kettle():
    return stocked_product(20, title="Blue Kettle", price="24.50")


def test_a_guest_is_sent_to_log_in_and_back_to_checkout_with_the_cart(client, kettle):
    user = UserFactory()
    add(client, kettle)

    response = client.get("/checkout/")
    assert response.status_code == 302 and response["Location"] == "/accounts/login/?next=/checkout/"

    response = client.post(
        "/accounts/login/", {"username": user.username, "password": PASSWORD, "next": "/checkout/"}, follow=True
    )
    assert response.redirect_chain[-1][0] == "/checkout/"
    assert response.context["summary"].lines[0].title == "Blue Kettle"


def test_checkout_pages_need_a_login(client):
    for url in ("/checkout/review/", "/orders/", "/orders/100-0000000-0000001/"):
        response = client.get(url)
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/?next=")


def test_an_empty_cart_goes_back_to_the_cart(client, shopper):
    for url in ("/checkout/", "/checkout/review/"):
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == "/cart/"
        assert page_messages(response) == ["Your cart is empty. Add something before checking out."]


@pytest.mark.parametrize(
    "field, value, error",
    [
        ("postal_code", "!!", "Enter a valid postal code."),
        ("country", "usa", "Choose a country from the list."),
        ("country", "1x", "Choose a country from the list."),
        ("country", "", "Choose your country."),
        ("region", "US-CA", "Leave the state or region empty: addresses in United Kingdom do not use one here."),
        ("full_name", "", "This field is required."),
    ],
)
def test_address_errors_are_shown_and_nothing_typed_is_lost(client, shopper, kettle, field, value, error):
    add(client, kettle)
    response = client.post("/checkout/", address_data(**{field: value}))

    assert response.status_code == 200
    assert response.context["new_form"].errors[field] == [error]
    body = response.content.decode()
    assert 'value="1 Analytical Way"' in body and 'value="London"' in body
    assert not Address.objects.exists()


def test_a_new_address_is_saved_with_the_country_in_capitals_and_offered_next_time(client, shopper, kettle):
    add(client, kettle)
    response = client.post("/checkout/", address_data(country="gb"))
    assert response["Location"] == "/checkout/review/"
    address = Address.objects.get(user=shopper)
    assert address.country == "GB"

    body = client.get("/checkout/").content.decode()
    assert 'name="address"' in body and "Ada Lovelace, 1 Analytical Way, London, GB" in body
    response = client.post("/checkout/", {"form": "saved", "address": address.pk})
    assert response["Location"] == "/checkout/review/"


def test_another_shoppers_address_cannot_be_chosen(client, shopper, kettle):
    Address.objects.create(user=shopper, **{k: v for k, v in address_data().items() if k != "form"})
    theirs = Address.objects.create(user=UserFactory(), **{k: v for k, v in address_data().items() if k != "form"})
    add(client, kettle)

    response = client.post("/checkout/", {"form": "saved", "address": theirs.pk})

    assert response.status_code == 200
    assert response.context["saved_form"].errors["address"] == ["Choose one of your addresses."]


def test_review_needs_an_address_first(client, shopper, kettle):
    add(client, kettle)
    response = client.get("/checkout/review/")
    assert response["Location"] == "/checkout/"


def test_review_shows_lines_shipping_tax_and_total(client, shopper, settings, kettle):
    settings.ORDER_TAX_RATE = Decimal("0.10")
    mug = stocked_product(20, title="Mug", price="3.25")

    response = to_review(client, kettle, mug)  # 49.00 + 6.50: free shipping

    body = response.content.decode()
    for text in ("Blue Kettle", "$24.50", "$49.00", "$6.50", "$55.50", "Free", "$5.55", "$61.05", "Ada Lovelace"):
        assert text in body, text
    assert 'name="expected_total" value="61.05"' in body
    assert re.search(r'name="checkout_key" value="[0-9a-f-]{36}"', body)


def test_review_charges_shipping_below_the_free_threshold(client, shopper):
    response = to_review(client, stocked_product(20, price="5.00"))
    body = response.content.decode()
    assert "$10.00" in body and "$4.99" in body and "$14.99" in body


def test_review_flags_a_changed_price(client, shopper, kettle):
    add(client, kettle)
    kettle.price = Decimal("26.00")
    kettle.save()
    client.post("/checkout/", address_data())

    body = client.get("/checkout/review/").content.decode()

    assert "Price changed from $24.50 to $26.00" in body
    assert 'name="expected_total" value="30.99"' in body  # 26.00 + 4.99 shipping


@pytest.mark.parametrize(
    "overrides, field, error",
    [
        ({"card_number": "4242 4242 4242 4241"}, "card_number", "Enter a valid card number."),
        ({"card_number": "not a card"}, "card_number", "Enter a valid card number."),
        ({"card_number": ""}, "card_number", "Enter your card number."),
        ({"cvc": "12"}, "cvc", "The security code is 3 or 4 digits."),
        ({"exp_month": "13"}, "exp_month", "Select a valid choice. 13 is not one of the available choices."),
        ({"checkout_key": "tampered"}, "checkout_key", "Enter a valid UUID."),
        ({"expected_total": "lots"}, "expected_total", "Enter a number."),
    ],
)
def test_bad_card_details_are_form_errors_and_place_no_order(client, shopper, kettle, overrides, field, error):
    review = to_review(client, kettle)

    response = client.post("/checkout/review/", pay_data(review, **overrides))

    assert response.status_code == 200
    assert response.context["form"].errors[field] == [error]
    assert not Order.objects.exists()
    assert CartLine.objects.get().quantity == 2


def test_an_expired_card_is_refused(client, shopper, kettle, monkeypatch):
    review = to_review(client, kettle)
    monkeypatch.setattr("orders.forms.timezone.localdate", lambda: date(2031, 6, 15))

    response = client.post("/checkout/review/", pay_data(review, exp_month="5", exp_year="2031"))

    assert response.context["form"].errors["exp_month"] == ["This card has expired."]
    assert not Order.objects.exists()


def chosen_option(body, name):
    """What a browser sends for a select left as it is: the selected option, or the first."""
    select = re.search(rf'<select name="{name}"[^>]*>(.*?)</select>', body, re.S).group(1)
    options = re.findall(r'<option value="(\d+)"( selected)?>', select)
    return next((value for value, selected in options if selected), options[0][0])


def test_the_expiry_defaults_to_a_month_that_has_not_passed(client, shopper, kettle, monkeypatch):
    monkeypatch.setattr("orders.forms.timezone.localdate", lambda: date(2026, 12, 15))
    review = to_review(client, kettle)
    body = review.content.decode()
    month, year = chosen_option(body, "exp_month"), chosen_option(body, "exp_year")
    assert (month, year) == ("12", "2026")

    response = client.post("/checkout/review/", pay_data(review, exp_month=month, exp_year=year))

    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.number}/?placed=1" and order.status == Status.PAID


def test_card_details_are_not_echoed_or_kept(client, shopper, kettle):
    review = to_review(client, kettle)

    response = client.post("/checkout/review/", pay_data(review, card="4242424242424241", cvc="98"))

    body = response.content.decode()
    assert "4242424242424241" not in body and 'value="98"' not in body
    session = str(dict(client.session.items()))
    assert "4242" not in session


def test_a_successful_checkout_ends_at_the_confirmation_with_an_empty_cart(
    client, shopper, kettle, django_capture_on_commit_callbacks, mailoutbox
):
    review = to_review(client, kettle)

    # The test database never commits: run the on-commit work (header count, mail) explicitly.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/checkout/review/", pay_data(review))

    order = Order.objects.get()
    assert response["Location"] == f"/orders/{order.number}/?placed=1"
    body = client.get(response["Location"]).content.decode()
    assert "Thank you, your order has been placed." in body and order.number in body
    assert order.user == shopper and order.status == Status.PAID and order.total == Decimal("49.00")
    assert order.shipping_address["city"] == "London"
    payment = order.payments.get()
    assert (payment.card_brand, payment.card_last4, payment.amount) == ("Visa", "4242", Decimal("49.00"))
    assert "Visa ending in 4242" in body and "$49.00" in body
    assert not CartLine.objects.exists()
    assert re.search(r'class="cart-count">0<', body)
    assert "4242424242424242" not in str(dict(client.session.items()))
    assert [mail.subject for mail in mailoutbox] == [f"Your order {order.number} is confirmed"]


def test_a_declined_card_returns_to_the_review_with_the_address_and_the_items(client, shopper, kettle):
    review = to_review(client, kettle)

    response = client.post("/checkout/review/", pay_data(review, card=DECLINED_CARD), follow=True)

    assert response.redirect_chain[-1][0] == "/checkout/review/"
    assert page_messages(response) == [DECLINED_MESSAGE]
    body = response.content.decode()
    assert "1 Analytical Way" in body and "Blue Kettle" in body and 'name="card_number"' in body
    assert CartLine.objects.get().product == kettle and CartLine.objects.get().quantity == 2
    assert Reservation.objects.get().quantity == 2  # reserved again, not only listed
    # A fresh form: its key is not the declined order's.
    assert response.context["form"].initial["checkout_key"] != review.context["form"].initial["checkout_key"]
    order = Order.objects.get()
    assert order.status == Status.CANCELLED and order.cancel_reason == "payment_failed"
    assert order.payments.get().outcome == Payment.Outcome.DECLINED


def test_stock_lost_after_review_is_fixed_in_the_cart(client, shopper):
    lamp = stocked_product(2, title="Last Lamp")
    review = to_review(client, lamp)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))
    cart_services.add_to_cart(cart_services.get_or_create_cart().pk, lamp.pk, 1)  # another shopper takes one

    response = client.post("/checkout/review/", pay_data(review), follow=True)

    assert response.redirect_chain[-1][0] == "/cart/"
    assert page_messages(response) == ["Not enough stock any more for: Last Lamp. Please adjust your cart."]
    assert not Order.objects.exists()
    body = client.get("/checkout/review/").content.decode()
    assert "Fix them in your cart" in body and 'name="card_number"' not in body


def test_the_form_sent_again_with_its_key_finds_its_order_though_the_cart_is_now_empty(client, shopper, kettle):
    """How the form's key gets to checkout; the double submit itself is tested once, in test_orders_services."""
    review = to_review(client, kettle)
    data = pay_data(review)

    first = client.post("/checkout/review/", data)
    second = client.post("/checkout/review/", data)

    order = Order.objects.get()
    assert first["Location"] == second["Location"] == f"/orders/{order.number}/?placed=1"


def test_resubmitting_a_declined_form_with_a_good_card_confirms_nothing(client, shopper, kettle):
    review = to_review(client, kettle)
    client.post("/checkout/review/", pay_data(review, card=DECLINED_CARD))

    response = client.post("/checkout/review/", pay_data(review), follow=True)

    assert response.redirect_chain[-1][0] == "/checkout/review/"
    assert page_messages(response) == [DECLINED_MESSAGE] * 2  # the first answer's, never shown, and this one's
    assert "Thank you" not in response.content.decode()
    assert Order.objects.get().status == Status.CANCELLED
    assert CartLine.objects.get().quantity == 2


def test_a_total_that_changed_after_review_sends_the_shopper_back_to_review(client, shopper, kettle):
    review = to_review(client, kettle)
    kettle.price = Decimal("30.00")
    kettle.save()

    response = client.post("/checkout/review/", pay_data(review), follow=True)

    assert response.redirect_chain[-1][0] == "/checkout/review/"
    assert any("Prices changed" in message for message in page_messages(response))
    assert not Order.objects.exists()
    assert "$60.00" in response.content.decode()


def test_another_shoppers_order_is_not_found(client, shopper):
    theirs = OrderFactory()
    assert client.get(f"/orders/{theirs.number}/").status_code == 404
    assert client.post(f"/orders/{theirs.number}/cancel/").status_code == 404
    assert client.get("/orders/no-such-order/").status_code == 404
    assert Order.objects.get().status == Status.PENDING


def test_the_orders_list_shows_only_the_shoppers_orders_newest_first(client, shopper):
    now = timezone.now()
    older = OrderFactory(user=shopper, created_at=now - timedelta(days=2))
    newer = OrderFactory(user=shopper, created_at=now)
    theirs = OrderFactory()

    response = client.get("/orders/")

    assert list(response.context["orders"]) == [newer, older]
    body = response.content.decode()
    assert theirs.number not in body and "$24.98" in body


def test_the_orders_list_is_paginated_and_a_bad_page_is_the_first(client, shopper):
    OrderFactory.create_batch(11, user=shopper)
    assert len(client.get("/orders/").context["orders"]) == 10
    assert len(client.get("/orders/?page=2").context["orders"]) == 1
    for page in ("99", "abc", "0"):
        response = client.get(f"/orders/?page={page}")
        assert response.status_code == 200 and response.context["page"].number == 1


def test_an_empty_orders_list(client, shopper):
    assert "You have not placed any orders yet." in client.get("/orders/").content.decode()


def test_the_header_links_to_the_orders_when_signed_in(client):
    assert 'href="/orders/"' not in client.get("/").content.decode()
    client.force_login(UserFactory())
    assert 'href="/orders/"' in client.get("/").content.decode()


def test_cancelling_an_order_then_cancelling_again(client, shopper, kettle):
    client.post("/checkout/review/", pay_data(to_review(client, kettle)))
    order = Order.objects.get()
    detail = client.get(f"/orders/{order.number}/")
    assert f'action="/orders/{order.number}/cancel/"' in detail.content.decode()

    response = client.post(f"/orders/{order.number}/cancel/", {"confirmed": "yes"}, follow=True)

    assert page_messages(response) == [f"Order {order.number} is cancelled."]
    order.refresh_from_db()
    assert order.status == Status.CANCELLED
    assert order.payments.filter(kind=Payment.Kind.REFUND).exists()
    body = response.content.decode()
    assert "Cancel this order" not in body and "Cancelled by the customer" in body

    again = client.post(f"/orders/{order.number}/cancel/", {"confirmed": "yes"}, follow=True)
    assert again.status_code == 200
    assert page_messages(again) == [f"Order {order.number} is cancelled and can no longer be cancelled."]


def test_the_detail_page_shows_the_timeline(client, shopper):
    order = OrderFactory(user=shopper, status=Status.SHIPPED)
    OrderEvent.objects.create(order=order, from_status="packed", to_status="shipped", note="UPS, tracking number 1Z999")

    body = client.get(f"/orders/{order.number}/").content.decode()

    assert "Shipped" in body and "UPS, tracking number 1Z999" in body
    assert "Cancel this order" not in body


def test_cancelling_needs_a_confirmed_post(client, shopper):
    order = OrderFactory(user=shopper, status=Status.PAID)
    for response in (client.get(f"/orders/{order.number}/cancel/"), client.post(f"/orders/{order.number}/cancel/")):
        assert response.status_code == 200 and "Are you sure?" in response.content.decode()
    order.refresh_from_db()
    assert order.status == Status.PAID


# --- Staff admin ---

CHANGELIST = "/admin/orders/order/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def run_action(client, action, orders, **extra):
    data = {"action": action, "_selected_action": [order.pk for order in orders], **extra}
    return client.post(CHANGELIST, data, follow=True)


def test_admin_lists_searches_and_never_edits_the_status(staff_client):
    order = OrderFactory(user=UserFactory(email="ada@example.com"))
    OrderFactory()
    response = staff_client.get(CHANGELIST, {"q": "ada@example"})
    assert list(response.context["cl"].result_list) == [order]

    body = staff_client.get(f"{CHANGELIST}{order.pk}/change/").content.decode()
    assert order.number in body and 'name="status"' not in body
    assert staff_client.get(f"{CHANGELIST}add/").status_code == 403


def test_admin_mark_packed_moves_paid_orders_and_refuses_the_others(staff_client):
    paid = order_with_item(status=Status.PAID)
    pending = order_with_item(status=Status.PENDING)

    response = run_action(staff_client, "mark_packed", [paid, pending])

    assert response.status_code == 200
    paid.refresh_from_db()
    pending.refresh_from_db()
    assert (paid.status, pending.status) == (Status.PACKED, Status.PENDING)
    assert page_messages(response) == [
        f"Order {pending.number} is pending payment; it cannot be packed now.",
        "1 order(s) packed.",
    ]
    assert paid.events.get().to_status == Status.PACKED


def test_admin_ship_asks_for_carrier_and_tracking_number(staff_client):
    packed = order_with_item(status=Status.PACKED)
    paid = order_with_item(status=Status.PAID)

    page = run_action(staff_client, "ship", [packed, paid])
    assert page.status_code == 200 and 'name="tracking_number"' in page.content.decode()
    missing = run_action(staff_client, "ship", [packed, paid], apply="Ship orders", carrier="UPS")
    assert "This field is required." in missing.content.decode()
    packed.refresh_from_db()
    assert packed.status == Status.PACKED

    response = run_action(staff_client, "ship", [packed, paid], apply="Ship orders", carrier="UPS", tracking_number="1Z999")

    packed.refresh_from_db()
    paid.refresh_from_db()
    assert (packed.status, paid.status) == (Status.SHIPPED, Status.PAID)
    assert packed.events.get().note == "UPS, tracking number 1Z999"
    assert page_messages(response) == [f"Order {paid.number} is paid; it cannot be shipped now.", "1 order(s) shipped."]


def test_admin_deliver_and_cancel(staff_client):
    shipped = order_with_item(status=Status.SHIPPED)
    paid = order_with_item(status=Status.PAID)

    run_action(staff_client, "mark_delivered", [shipped])
    response = run_action(staff_client, "cancel_and_refund", [shipped, paid])

    shipped.refresh_from_db()
    paid.refresh_from_db()
    assert (shipped.status, paid.status) == (Status.DELIVERED, Status.CANCELLED)
    assert paid.cancel_reason == "staff"
    assert f"Order {shipped.number} is delivered; it cannot be cancelled now." in page_messages(response)


def test_shoppers_cannot_use_the_orders_admin(client, shopper):
    assert client.get(CHANGELIST)["Location"].startswith("/admin/login/")


def test_the_cart_page_leads_to_checkout_unless_a_line_blocks_it(client):
    user = UserFactory()
    client.force_login(user)
    product = stocked_product(2)
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    assert 'href="/checkout/"' in client.get("/cart/").content.decode()
    Product.objects.filter(pk=product.pk).update(is_active=False)
    body = client.get("/cart/").content.decode()
    assert 'href="/checkout/"' not in body and "Checkout opens once" in body


def test_a_second_click_while_the_card_is_being_charged_says_so(client, shopper, kettle, monkeypatch):
    review = to_review(client, kettle)
    real_charge, second_clicks = TestGateway.charge, []

    def charge_while_clicked_again(gateway, **kwargs):
        second_clicks.append(client.post("/checkout/review/", pay_data(review), follow=True))
        return real_charge(gateway, **kwargs)

    monkeypatch.setattr(TestGateway, "charge", charge_while_clicked_again)
    client.post("/checkout/review/", pay_data(review))

    order = Order.objects.get()
    [second] = second_clicks
    assert second.redirect_chain[-1][0] == f"/orders/{order.number}/"
    assert page_messages(second) == [checkout.payment_in_progress_message()]
    assert order.status == Status.PAID and order.payments.count() == 1


def test_a_lapsed_hold_on_free_stock_does_not_block_the_review_and_the_order_takes_it(client, shopper):
    lamp = stocked_product(3, title="Desk Lamp")
    review = to_review(client, lamp)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))  # nobody took the stock

    review = client.get("/checkout/review/")  # straight here, without opening the cart page
    body = review.content.decode()
    assert "Fix them in your cart" not in body and 'name="card_number"' in body

    response = client.post("/checkout/review/", pay_data(review), follow=True)
    order = Order.objects.get()
    assert response.redirect_chain[-1][0] == f"/orders/{order.number}/?placed=1"
    assert order.items.get().quantity == 2
    assert Product.objects.get(pk=lamp.pk).inventory.get().quantity == 1
