"""Mails to shoppers about their orders, through Django's e-mail framework (the console backend by default).

Each mail has a text and an HTML part, rendered from what the order's page
shows (``selectors.order_page``) with the page's own partials for the
address and the totals. They go only to the account's confirmed address
(``User.email``, see amazon_site/accounts/models.py): an account with none
gets no mail.

The moves queue them with ``queue`` once their transaction commits, so a
mail never tells of a change that was rolled back. The Celery tasks live
here, not in ``orders.tasks``: checkout and fulfilment queue them, and
``orders.tasks`` runs the checkout's settling job, so tasks there would make
checkout and tasks import each other. Their registered names stay
``orders.tasks.*``, what queued messages carry.
"""
from celery import shared_task
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from amazon_site.celery import enqueue_on_commit

from . import selectors
from .delivery import tracking_url
from .models import Order

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


def queue(order, kind: str, **details) -> None:
    """Send the ``kind`` mail of ``order`` once the current transaction commits."""
    if not order.user.email:
        return  # no confirmed address: nothing to queue (the task checks again when it runs)
    if kind == "placed":
        enqueue_on_commit(order_confirmation_task, order.pk)
    elif kind == "shipped":
        enqueue_on_commit(shipping_notice_task, order.pk, details["carrier"], details["tracking_number"], details.get("shipment_id"))
    else:
        enqueue_on_commit(order_mail_task, order.pk, kind, details.get("return_id"))


def send_order_confirmation(order_id) -> None:
    send_order_mail(order_id, "placed")


def send_order_mail(order_id, kind: str, **details) -> None:
    order = Order.objects.select_related("user").filter(pk=order_id).exclude(user__email="").first()
    if order is None:
        return  # no confirmed address (or no such order)
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


@shared_task(name="orders.tasks.send_order_confirmation")
def order_confirmation_task(order_id):
    send_order_confirmation(order_id)


# The carrier and number are optional: messages queued before they were passed carry only the id.
@shared_task(name="orders.tasks.send_shipping_notice")
def shipping_notice_task(order_id, carrier="", tracking_number="", shipment_id=None):
    send_order_mail(order_id, "shipped", carrier=carrier, tracking_number=tracking_number, shipment_id=shipment_id)


@shared_task(name="orders.tasks.send_order_mail")
def order_mail_task(order_id, kind, return_id=None):
    send_order_mail(order_id, kind, return_id=return_id)
