"""The stored mail queue: a row written with the move, sent by its task on commit or by ``send_queued_mail``
later, retried while the mail server fails and given up after MAIL_MAX_ATTEMPTS; staff send from the admin."""
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection, transaction
from django.utils import timezone

from amazon_site.celery import app as celery_app
from orders import emails, tasks
from orders.models import OutgoingMail
from tests.factories import OrderFactory, UserFactory
from tests.processes import free_port
from tests.orders.helpers import page_messages

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/orders/outgoingmail/"


def queued(order=None, kind="delivered", age=timedelta(0), **details) -> OutgoingMail:
    """A mail queued as a move queues it, its task not run (the test's transaction never commits)."""
    emails.queue(order or OrderFactory(), kind, **details)
    mail = OutgoingMail.objects.latest("pk")
    OutgoingMail.objects.filter(pk=mail.pk).update(created_at=timezone.now() - age)
    return mail


def run(*args) -> str:
    out = StringIO()
    call_command("send_queued_mail", *args, stdout=out)
    return out.getvalue().strip()


def state(mail) -> tuple:
    mail.refresh_from_db()
    return mail.status, mail.attempts


def test_a_mail_queued_in_a_transaction_that_rolls_back_leaves_no_row_and_sends_nothing(
    django_capture_on_commit_callbacks, mailoutbox
):
    order = OrderFactory()
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            emails.queue(order, "delivered")
            assert OutgoingMail.objects.filter(order=order).exists()  # stored with the change...
            raise RuntimeError("the move failed after queueing its mail")
    assert callbacks == [] and not OutgoingMail.objects.exists()  # ...and gone with it
    assert run() == "Sent 0 mails; 0 failed; 0 still queued."
    assert mailoutbox == []


def test_the_row_is_stored_in_the_transaction_and_its_task_sends_it_after_the_commit(
    django_capture_on_commit_callbacks, mailoutbox
):
    order = OrderFactory()
    with django_capture_on_commit_callbacks() as callbacks:
        emails.queue(order, "shipped", carrier="UPS", tracking_number="1Z 9")
    mail = OutgoingMail.objects.get()
    assert (mail.order, mail.kind, mail.details, state(mail)) == (
        order, "shipped", {"carrier": "UPS", "tracking_number": "1Z 9"}, ("queued", 0)
    )
    assert mailoutbox == []

    [on_commit] = callbacks
    on_commit()  # the task, eager here, sends the row

    assert state(mail) == ("sent", 1) and mail.sent_at is not None
    [sent] = mailoutbox
    assert sent.subject == f"Your order {order.number} has shipped" and "tracknum=1Z%209" in sent.body


def test_details_must_be_json_and_the_kind_a_known_mail():
    order = OrderFactory()
    with pytest.raises(TypeError), transaction.atomic():  # the move fails with it, not its mail later
        emails.queue(order, "refunded", amount=Decimal("9.99"))
    emails.queue(order, "refunded", amount="9.99", lines=2)
    assert OutgoingMail.objects.get().details == {"amount": "9.99", "lines": 2}
    with pytest.raises(ValueError, match="No order mail is called 'paid'"):
        emails.queue(order, "paid")


def test_an_smtp_failure_counts_attempts_and_ends_failed_after_mail_max_attempts(settings, smtp_down, mailoutbox):
    settings.MAIL_MAX_ATTEMPTS = 3
    mail = queued()

    assert run() == "Sent 0 mails; 0 failed; 1 still queued."
    assert state(mail) == ("queued", 1) and mail.last_error.startswith("ConnectionRefusedError")
    assert run() == "Sent 0 mails; 0 failed; 1 still queued."
    assert run() == "Sent 0 mails; 1 failed; 0 still queued."
    assert state(mail) == ("failed", 3) and mail.sent_at is None

    assert run() == "Sent 0 mails; 1 failed; 0 still queued."  # given up: not tried again
    assert state(mail) == ("failed", 3)


def test_a_mail_the_server_refused_is_sent_when_it_is_back(settings, smtp_server):
    mail = queued()
    live_port, settings.EMAIL_PORT = settings.EMAIL_PORT, free_port()  # down for the first run
    assert run() == "Sent 0 mails; 0 failed; 1 still queued."
    settings.EMAIL_PORT = live_port

    assert run() == "Sent 1 mails; 0 failed; 0 still queued."
    assert state(mail) == ("sent", 2) and mail.last_error == ""
    [(to, message)] = smtp_server
    assert to == [mail.order.user.email] and message["Subject"] == f"Your order {mail.order.number} was delivered"


def test_a_mail_already_sent_is_not_sent_again(mailoutbox):
    mail = queued()
    assert run() == "Sent 1 mails; 0 failed; 0 still queued."
    assert run() == "Sent 0 mails; 0 failed; 0 still queued."
    assert emails.send_queued(mail.pk) is None
    assert len(mailoutbox) == 1 and state(mail) == ("sent", 1)


def test_the_command_sends_the_oldest_first_within_its_limit_and_age(mailoutbox):
    oldest = queued(age=timedelta(minutes=3))
    older = queued(age=timedelta(minutes=2))
    young = queued()

    assert run("--older-than", "60", "--limit", "1") == "Sent 1 mails; 0 failed; 2 still queued."
    assert [state(mail)[0] for mail in (oldest, older, young)] == ["sent", "queued", "queued"]
    assert run("--older-than", "60") == "Sent 1 mails; 0 failed; 1 still queued."
    assert run() == "Sent 1 mails; 0 failed; 0 still queued."
    assert [m.subject for m in mailoutbox] == [
        f"Your order {mail.order.number} was delivered" for mail in (oldest, older, young)
    ]


@pytest.mark.parametrize("args", [("--limit", "0"), ("--older-than", "-1")])
def test_the_command_refuses_a_limit_or_age_out_of_range(args):
    with pytest.raises(CommandError, match="--limit must be at least 1"):
        run(*args)


def test_a_mail_whose_account_lost_its_address_fails_without_sending(mailoutbox):
    mail = queued()
    mail.order.user.email = ""
    mail.order.user.save()

    assert run() == "Sent 0 mails; 1 failed; 0 still queued."
    assert state(mail) == ("failed", 1) and mail.last_error == emails.NO_ADDRESS
    assert mailoutbox == []


def test_a_database_error_while_rendering_is_recorded_as_an_attempt(monkeypatch, mailoutbox):
    def broken_page(order):
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(emails.selectors, "order_page", broken_page)
    mail = queued()

    assert emails.send_queued(mail.pk) == "queued"
    assert state(mail) == ("queued", 1) and "no_such_table" in mail.last_error
    assert mailoutbox == []


def test_beat_sweeps_every_five_minutes_and_leaves_young_mails_to_their_task(settings, mailoutbox):
    entry = settings.CELERY_BEAT_SCHEDULE["orders-send-queued-mail"]
    assert entry["task"] in celery_app.tasks and entry["schedule"] == 300.0
    stranded, young = queued(age=timedelta(minutes=2)), queued(age=timedelta(seconds=10))

    assert tasks.send_queued_mail.delay().get() == 1

    assert (state(stranded)[0], state(young)[0]) == ("sent", "queued")


def staff(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def test_staff_see_the_queue_read_only_and_send_the_queued_mails_now(client, mailoutbox):
    waiting, done = queued(), queued()
    emails.send_queued(done.pk)
    mailoutbox.clear()
    client.force_login(staff("view_outgoingmail", "change_outgoingmail"))

    listing = client.get(CHANGELIST).content.decode()
    assert "Send now" in listing and str(waiting.order) in listing
    page = client.get(f"{CHANGELIST}{waiting.pk}/change/").content.decode()
    assert 'name="kind"' not in page and 'name="status"' not in page
    assert client.get(f"{CHANGELIST}add/").status_code == 403

    response = client.post(CHANGELIST, {"action": "send_now", "_selected_action": [waiting.pk, done.pk]}, follow=True)

    assert page_messages(response) == ["1 of 2 mail(s) sent."]
    assert state(waiting) == ("sent", 1) and state(done) == ("sent", 1)
    assert len(mailoutbox) == 1


def test_staff_who_may_only_look_cannot_send(client, mailoutbox):
    mail = queued()
    client.force_login(staff("view_outgoingmail"))

    assert "Send now" not in client.get(CHANGELIST).content.decode()
    client.post(CHANGELIST, {"action": "send_now", "_selected_action": [mail.pk]})

    assert state(mail) == ("queued", 0) and mailoutbox == []
