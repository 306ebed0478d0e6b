"""Mails to shoppers, through Django's e-mail framework (the console backend by default).

The Celery tasks that send them live here too, not in ``orders.tasks``: checkout
and fulfilment queue them, and ``orders.tasks`` runs the checkout's settling
job, so tasks there would make checkout and tasks import each other. Their
registered names stay ``orders.tasks.*``, what queued messages carry.
"""
from celery import shared_task
from django.conf import settings
from django.core.mail import send_mail
from django.template.loader import render_to_string

from .models import Order


def send_order_confirmation(order_id) -> None:
    _send(order_id, "orders/email/confirmation.txt", "Your order {number} is confirmed")


def send_shipping_notice(order_id) -> None:
    _send(order_id, "orders/email/shipped.txt", "Your order {number} has shipped")


@shared_task(name="orders.tasks.send_order_confirmation")
def order_confirmation_task(order_id):
    send_order_confirmation(order_id)


@shared_task(name="orders.tasks.send_shipping_notice")
def shipping_notice_task(order_id):
    send_shipping_notice(order_id)


def _send(order_id, template, subject):
    if not Order.objects.filter(pk=order_id).exclude(user__email="").exists():
        return  # an account without an address
    order = Order.objects.select_related("user").prefetch_related("items", "events").get(pk=order_id)
    body = render_to_string(template, {"order": order, "shipped": order.events.filter(to_status="shipped").last()})
    send_mail(subject.format(number=order.number), body, settings.DEFAULT_FROM_EMAIL, [order.user.email])
