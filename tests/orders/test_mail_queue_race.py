"""Two senders of the mail queue at once, on two PostgreSQL connections: each mail goes out once."""
import threading
import time

import pytest
from django.db import connection

from orders import emails
from orders.models import OutgoingMail
from tests.concurrency import run_concurrently
from tests.factories import OrderFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for real concurrency"),
]


def stranded(count=1):
    """Mails queued whose tasks were lost (a broker outage): written directly, so no task runs."""
    order = OrderFactory()
    return [OutgoingMail.objects.create(order=order, kind="delivered") for _ in range(count)]


def test_the_task_and_the_sweep_at_once_send_a_mail_once(monkeypatch, mailoutbox):
    [mail] = stranded()
    skipped = threading.Event()
    waited = []
    send = emails.send_order_mail

    def send_while_the_other_tries(order_id, kind, **details):
        # The sender holding the row waits, its lock held, until the other sender has given up.
        waited.append(skipped.wait(timeout=10))
        return send(order_id, kind, **details)

    monkeypatch.setattr(emails, "send_order_mail", send_while_the_other_tries)

    def sender(i):
        result = emails.send_queued(mail.pk) if i == 0 else emails.send_queued_mail()
        if not result:  # None from the task's sender, 0 from the sweep
            skipped.set()
        return result

    results, errors = run_concurrently(2, sender)

    assert errors == []
    assert waited == [True]  # one sender rendered, and the other skipped the locked row instead of waiting
    assert results in (["sent", 0], [None, 1])  # the task sent it, or the sweep did
    assert len(mailoutbox) == 1
    mail.refresh_from_db()
    assert (mail.status, mail.attempts) == ("sent", 1)


def test_two_sweeps_at_once_send_each_mail_once(monkeypatch, mailoutbox):
    mails = stranded(10)
    send = emails.send_order_mail

    def slow_send(order_id, kind, **details):
        time.sleep(0.02)  # long enough for the sweeps to meet on the same rows
        return send(order_id, kind, **details)

    monkeypatch.setattr(emails, "send_order_mail", slow_send)

    results, errors = run_concurrently(2, lambda i: emails.send_queued_mail())

    assert errors == [] and sum(results) == 10
    assert len(mailoutbox) == 10
    assert set(OutgoingMail.objects.filter(pk__in=[m.pk for m in mails]).values_list("status", "attempts")) == {("sent", 1)}
