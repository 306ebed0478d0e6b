"""The order mails (placed, shipped, delivered, cancelled, refunded): text and HTML, stored with the move and sent
once it commits, only to a confirmed address; the last test sends them through a real SMTP server on loopback and
reads what arrives. The queue itself (outages, retries, the command) is tested in test_mail_queue.py."""
import pytest
from django.db import transaction

from amazon_site.accounts import services as account_services
from amazon_site.accounts.confirmation import make_token
from cart import services as cart_services
from orders import checkout as order_checkout
from orders import emails, fulfilment, returns
from orders.models import OutgoingMail
from tests.factories import PASSWORD, UserFactory, stocked_product
from tests.orders.helpers import ADDRESS, checkout

pytestmark = pytest.mark.django_db


def place(user, django_capture_on_commit_callbacks, title="Cast Iron Pan"):
    cart_id = cart_services.get_or_create_cart(user=user).pk
    cart_services.add_to_cart(cart_id, stocked_product(5, title=title).pk, 2)
    address = order_checkout.save_address(user=user, data=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        return checkout(user, cart_id, address).order


def parts(mail) -> tuple[str, str]:
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html"
    return mail.body, html


def test_each_move_mails_its_news_in_both_parts(django_capture_on_commit_callbacks, mailoutbox):
    user, staff = UserFactory(email="ada@example.com"), UserFactory(is_staff=True)
    order = place(user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.pack(order.pk, actor=staff)
        fulfilment.ship(order.pk, actor=staff, carrier="UPS", tracking_number="1Z 999")
        fulfilment.deliver(order.pk, actor=staff)
    placed, shipped, delivered = mailoutbox
    assert [m.subject for m in mailoutbox] == [
        f"Your order {order.number} is confirmed", f"Your order {order.number} has shipped",
        f"Your order {order.number} was delivered",
    ]
    assert all(m.to == ["ada@example.com"] for m in mailoutbox)
    assert list(OutgoingMail.objects.order_by("pk").values_list("kind", "status", "attempts", "details")) == [
        ("placed", "sent", 1, {}),
        ("shipped", "sent", 1, {"carrier": "UPS", "tracking_number": "1Z 999", "shipment_id": order.shipments.get().pk}),
        ("delivered", "sent", 1, {}),
    ]
    for mail in mailoutbox:
        text, html = parts(mail)
        for part in (text, html):  # what the order's page shows: items, totals, address
            assert order.number in part and "Cast Iron Pan" in part and "1 Analytical Way" in part
            assert "$39.98" in part  # two at $19.99
    text, html = parts(shipped)
    assert "on its way with UPS, tracking number 1Z 999" in text
    assert "https://www.ups.com/track?tracknum=1Z%20999" in text
    assert 'href="https://www.ups.com/track?tracknum=1Z%20999"' in html


def test_a_carrier_without_a_tracking_page_gets_the_number_only(django_capture_on_commit_callbacks, mailoutbox):
    order = place(UserFactory(email="ada@example.com"), django_capture_on_commit_callbacks)
    staff = UserFactory(is_staff=True)
    fulfilment.pack(order.pk, actor=staff)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.ship(order.pk, actor=staff, carrier="Pigeon Post", tracking_number="P-1")
    text, html = parts(mailoutbox[0])
    assert "Pigeon Post, tracking number P-1" in text and "Follow the parcel" not in text and "<a href" not in html


def test_a_cancel_mails_the_cancellation_and_the_refund(django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory(email="ada@example.com")
    order = place(user, django_capture_on_commit_callbacks)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.cancel_by_customer(user=user, order_id=order.pk)
    cancelled, refunded = mailoutbox
    assert cancelled.subject == f"Your order {order.number} is cancelled"
    assert "cancelled by the customer" in parts(cancelled)[0]
    assert refunded.subject == f"Your refund for order {order.number}"
    for part in parts(refunded):
        assert "refunded $39.98" in part.lower() and "ending in 4242" in part


def test_a_declined_card_mails_nothing(django_capture_on_commit_callbacks, mailoutbox):
    from tests.orders.helpers import DECLINED

    user = UserFactory(email="ada@example.com")
    cart_id = cart_services.get_or_create_cart(user=user).pk
    cart_services.add_to_cart(cart_id, stocked_product(5).pk, 1)
    address = order_checkout.save_address(user=user, data=ADDRESS)
    with django_capture_on_commit_callbacks(execute=True):
        checkout(user, cart_id, address, card=DECLINED)
    assert mailoutbox == []  # the checkout page says it was declined


def test_a_move_rolled_back_mails_nothing(django_capture_on_commit_callbacks, mailoutbox):
    order = place(UserFactory(email="ada@example.com"), django_capture_on_commit_callbacks)
    staff = UserFactory(is_staff=True)
    fulfilment.pack(order.pk, actor=staff)
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            fulfilment.ship(order.pk, actor=staff, carrier="UPS", tracking_number="1Z")
            raise RuntimeError("the request failed after the move")
    assert mailoutbox == [] and not OutgoingMail.objects.filter(kind="shipped").exists()


def test_an_account_without_a_confirmed_address_gets_no_order_mail(django_capture_on_commit_callbacks, mailoutbox):
    user = account_services.sign_up(username="ada", password=PASSWORD, email="ada@example.com", base_url="http://t/")
    place(user, django_capture_on_commit_callbacks)
    assert mailoutbox == [] and not OutgoingMail.objects.exists()
    emails.send_order_mail(user.orders.get().pk, "delivered")
    assert mailoutbox == []


def test_the_mails_cross_a_real_smtp_server_to_the_confirmed_address_only(
    smtp_server, django_capture_on_commit_callbacks, client
):
    with django_capture_on_commit_callbacks(execute=True):
        user = account_services.sign_up(username="ada", password=PASSWORD, email="Ada@Example.com", base_url="http://t/")
    [(to, confirm_mail)] = smtp_server  # the confirmation link is all an unconfirmed address gets
    assert to == ["Ada@Example.com"] and confirm_mail["Subject"] == "Confirm your e-mail address"
    staff = UserFactory(is_staff=True)
    unconfirmed = place(user, django_capture_on_commit_callbacks, title="Kettle")
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.cancel_by_customer(user=user, order_id=unconfirmed.pk)
    assert len(smtp_server) == 1  # nothing about orders while the address is unconfirmed

    assert client.post(f"/accounts/email/confirm/{make_token(user.email_addresses.get())}/").status_code == 302
    order = place(user, django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.pack(order.pk, actor=staff)
        fulfilment.ship(order.pk, actor=staff, carrier="DHL", tracking_number="JD0042")
        fulfilment.deliver(order.pk, actor=staff)
        returns.return_everything(order.pk, actor=staff, restockable=True)

    arrived = smtp_server[1:]
    assert [message["Subject"] for _, message in arrived] == [
        f"Your order {order.number} is confirmed", f"Your order {order.number} has shipped",
        f"Your order {order.number} was delivered", f"We received your return for order {order.number}",
    ]
    assert f"We refunded ${order.total}" in arrived[-1][1].get_body(("plain",)).get_content()
    for to, message in arrived:
        assert to == ["Ada@Example.com"] and message["To"] == "Ada@Example.com"
        assert message.get_content_type() == "multipart/alternative"
        text = message.get_body(("plain",)).get_content()
        html = message.get_body(("html",)).get_content()
        assert order.number in text and order.number in html and "Cast Iron Pan" in html
    shipped = arrived[1][1]
    assert "tracking-id=JD0042" in shipped.get_body(("plain",)).get_content()
    assert "tracking-id=JD0042" in shipped.get_body(("html",)).get_content()
