"""Background jobs of orders run by beat; the mail tasks live in ``orders.emails``, next to the mails."""
from celery import shared_task

from . import checkout


@shared_task
def settle_unfinished_checkouts():
    """Beat runs this every ORDER_SETTLE_INTERVAL_MINUTES (see checkout.settle_unfinished_checkouts)."""
    return checkout.settle_unfinished_checkouts()
