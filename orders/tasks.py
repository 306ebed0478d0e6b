"""Background jobs of orders: mail goes out after the change committed, off the request."""
from celery import shared_task

from . import emails, services


@shared_task
def send_order_confirmation(order_id):
    emails.send_order_confirmation(order_id)


@shared_task
def send_shipping_notice(order_id):
    emails.send_shipping_notice(order_id)


@shared_task
def settle_unfinished_checkouts():
    """Beat runs this every five minutes (see services.settle_unfinished_checkouts)."""
    return services.settle_unfinished_checkouts()
