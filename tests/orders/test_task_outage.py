"""A broker or mail server that is down after a checkout commits: the shopper still sees the order, and the
mail stays queued in the database until ``send_queued_mail`` sends it."""
import pytest
from django.core.management import call_command

from amazon_site.celery import app as celery_app
from orders.models import Order, OutgoingMail, Status
from tests.factories import UserFactory, stocked_product
from tests.orders.helpers import pay_data, to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(client):
    user = UserFactory(email="ada@example.com")
    client.force_login(user)
    return user


@pytest.fixture
def dead_broker():
    """Tasks go to a broker nothing listens on, as in production with RabbitMQ down."""
    saved = {key: celery_app.conf[key] for key in ("task_always_eager", "broker_url")}
    # Celery's own reset for a new process: its connection and producer pools
    # are dropped, so the next ones are made for the broker configured now.
    celery_app._after_fork()
    celery_app.conf.update(task_always_eager=False, broker_url="amqp://guest:guest@127.0.0.1:1//")
    yield
    celery_app.conf.update(saved)
    celery_app._after_fork()


def checkout(client, django_capture_on_commit_callbacks):
    review = to_review(client, stocked_product(5, title="Kettle", price="24.50"))
    with django_capture_on_commit_callbacks(execute=True):
        return client.post("/checkout/review/", pay_data(review))


def test_a_checkout_with_the_broker_down_shows_the_paid_order_and_the_command_sends_its_mail(
    client, shopper, dead_broker, django_capture_on_commit_callbacks, caplog, smtp_server
):
    response = checkout(client, django_capture_on_commit_callbacks)

    order = Order.objects.get()
    assert order.status == Status.PAID
    assert response["Location"] == f"/orders/{order.number}/?placed=1"
    assert "orders.tasks.send_outgoing_mail" in caplog.text and "was not queued" in caplog.text
    mail = OutgoingMail.objects.get()
    assert (mail.order, mail.kind, mail.status, mail.attempts) == (order, "placed", "queued", 0)
    assert smtp_server == []

    call_command("send_queued_mail")  # no worker: the command sends in-process

    [(to, message)] = smtp_server
    assert to == ["ada@example.com"] and message["Subject"] == f"Your order {order.number} is confirmed"
    assert "Kettle" in message.get_body(("plain",)).get_content()
    mail.refresh_from_db()
    assert (mail.status, mail.attempts, mail.last_error) == ("sent", 1, "") and mail.sent_at is not None


def test_a_checkout_with_the_mail_server_down_shows_the_paid_order_and_keeps_the_mail(
    client, shopper, smtp_down, django_capture_on_commit_callbacks, caplog
):
    response = checkout(client, django_capture_on_commit_callbacks)

    order = Order.objects.get()
    assert order.status == Status.PAID
    assert response["Location"] == f"/orders/{order.number}/?placed=1"
    mail = OutgoingMail.objects.get()
    assert (mail.kind, mail.status, mail.attempts) == ("placed", "queued", 1)
    assert mail.last_error.startswith("ConnectionRefusedError") and "not sent (attempt 1)" in caplog.text
