"""Mails to shoppers about their orders, through Django's e-mail framework (the console backend by default).

Each mail has a text and an HTML part, rendered from what the order's page
shows (``selectors.order_page``) with the page's own partials for the
address and the totals. They go only to the account's confirmed address
(``User.email``, see amazon_site/accounts/models.py): an account with none
gets no mail.

The moves call ``queue``, which stores the mail as an ``OutgoingMail`` row in
their transaction: it exists exactly when the move committed, so a mail never
tells of a change that was rolled back, and a broker outage loses none. Once
the transaction commits a task sends the row; ``send_queued_mail`` (beat's
sweep, the command of that name, the admin's "Send now") sends what is still
queued. A row is sent under its row lock, taken with SKIP LOCKED, in a short
transaction that also marks it: on PostgreSQL two senders never send one row
twice. SQLite takes no row lock, so two senders at the same instant could.
A sender that dies between the SMTP server's answer and the commit leaves the
row queued, and it is sent again: at least once, not exactly once.

The Celery tasks live here, not in ``orders.tasks``: checkout and fulfilment
queue them, and ``orders.tasks`` runs the checkout's settling job, so tasks
there would make checkout and tasks import each other. Their registered names
stay ``orders.tasks.*``, what queued messages carry.
"""
import logging
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import timezone

from amazon_site.celery import enqueue_on_commit

from . import selectors
from .delivery import tracking_url
from .models import Order, OutgoingMail

log = logging.getLogger(__name__)

SUBJECTS = {
    "placed": "Your order {number} is confirmed",
    "shipped": "Your order {number} has shipped",
    "delivered": "Your order {number} was delivered",
    "cancelled": "Your order {number} is cancelled",
    "refunded": "Your refund for order {number}",
    "return_approved": "Your return for order {number} is approved",
    "return_refused": "Your return for order {number} was not accepted",
    "return_received": "We received your return for order {number}",
}

NO_ADDRESS = "The account has no confirmed address any more."


def queue(order, kind: str, **details) -> None:
    """Store the ``kind`` mail of ``order`` in the current transaction; a task sends it once that commits.

    ``details`` are stored as JSON, so they must be strings, numbers and the like (a Decimal as a string).
    """
    if kind not in SUBJECTS:
        raise ValueError(f"No order mail is called {kind!r}.")
    if not order.user.email:
        return  # no confirmed address: nothing to queue (the sender checks again)
    mail = OutgoingMail.objects.create(order=order, kind=kind, details=details)
    enqueue_on_commit(outgoing_mail_task, mail.pk)


def send_queued(mail_id) -> str | None:
    """Send one queued mail and mark it; returns its status then, or None when it was not this sender's to send.

    None: already sent, given up, or being sent by another sender right now
    (whose lock this one skips). A send that raises counts an attempt; the
    row stays queued for the sweep, or fails after ``MAIL_MAX_ATTEMPTS``.
    """
    with transaction.atomic():
        mail = (
            OutgoingMail.objects.select_for_update(skip_locked=True)
            .filter(pk=mail_id, status=OutgoingMail.Status.QUEUED)
            .first()
        )
        if mail is None:
            return None
        mail.attempts += 1
        try:
            # A savepoint: a database error while rendering must not abort the transaction that records it.
            with transaction.atomic():
                sent = send_order_mail(mail.order_id, mail.kind, **mail.details)
        except Exception as error:  # noqa: BLE001  (SMTP down, a template error: recorded and retried)
            mail.last_error = f"{type(error).__name__}: {error}"
            if mail.attempts >= settings.MAIL_MAX_ATTEMPTS:
                mail.status = OutgoingMail.Status.FAILED
            log.warning(
                "%s mail %s of order %s not sent (attempt %s): %s",
                mail.kind, mail.pk, mail.order_id, mail.attempts, mail.last_error,
            )
        else:
            if sent:
                mail.status, mail.sent_at, mail.last_error = OutgoingMail.Status.SENT, timezone.now(), ""
            else:
                mail.status, mail.last_error = OutgoingMail.Status.FAILED, NO_ADDRESS
        mail.save(update_fields=["status", "attempts", "last_error", "sent_at"])
        return mail.status


def send_queued_mail(*, limit=None, older_than_seconds=0, mail_ids=None) -> int:
    """Send the queued mails stored ``older_than_seconds`` ago or before, oldest first; returns how many were sent.

    Each is sent by ``send_queued`` in its own transaction, so a mail server
    that fails part way keeps what was sent. ``mail_ids`` limits it to those rows.
    """
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    queued = OutgoingMail.objects.filter(status=OutgoingMail.Status.QUEUED, created_at__lte=cutoff)
    if mail_ids is not None:
        queued = queued.filter(pk__in=mail_ids)
    ids = list(queued.order_by("created_at", "pk").values_list("pk", flat=True)[:limit])
    return sum(send_queued(mail_id) == OutgoingMail.Status.SENT for mail_id in ids)


def send_order_confirmation(order_id) -> bool:
    return send_order_mail(order_id, "placed")


def send_order_mail(order_id, kind: str, **details) -> bool:
    """Render and send the mail now; False when there is no one to send it to."""
    order = Order.objects.select_related("user").filter(pk=order_id).exclude(user__email="").first()
    if order is None:
        return False  # no confirmed address (or no such order)
    context = {**selectors.order_page(order), **details, "kind": kind}
    if kind == "shipped":
        context["tracking_url"] = tracking_url(details.get("carrier", ""), details.get("tracking_number", ""))
    # The parcel or the return a mail is about, from the lists the order's page shows.
    context["shipment"] = next((s for s in context["shipments"] if s.pk == details.get("shipment_id")), None)
    context["ret"] = next((r for r in context["returns"] if r.pk == details.get("return_id")), None)
    mail = EmailMultiAlternatives(
        SUBJECTS[kind].format(number=order.number),
        render_to_string(f"orders/email/{kind}.txt", context),
        settings.DEFAULT_FROM_EMAIL,
        [order.user.email],
    )
    mail.attach_alternative(render_to_string(f"orders/email/{kind}.html", context), "text/html")
    mail.send()
    return True


@shared_task(name="orders.tasks.send_outgoing_mail")
def outgoing_mail_task(mail_id):
    send_queued(mail_id)


# The three below send directly, without a row: what messages queued before the mail queue carry.
@shared_task(name="orders.tasks.send_order_confirmation")
def order_confirmation_task(order_id):
    send_order_confirmation(order_id)


# The carrier and number are optional: messages queued before they were passed carry only the id.
@shared_task(name="orders.tasks.send_shipping_notice")
def shipping_notice_task(order_id, carrier="", tracking_number=""):
    send_order_mail(order_id, "shipped", carrier=carrier, tracking_number=tracking_number)


@shared_task(name="orders.tasks.send_order_mail")
def order_mail_task(order_id, kind):
    send_order_mail(order_id, kind)
