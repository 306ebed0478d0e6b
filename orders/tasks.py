"""Background jobs of orders run by beat; the mail tasks live in ``orders.emails``, next to the mails."""
from celery import shared_task

from . import checkout, emails

# A mail younger than this is left to the task its move queued on commit.
SWEEP_AFTER_SECONDS = 60


@shared_task
def settle_unfinished_checkouts():
    """Beat runs this every ORDER_SETTLE_INTERVAL_MINUTES (see checkout.settle_unfinished_checkouts)."""
    return checkout.settle_unfinished_checkouts()


@shared_task
def send_queued_mail():
    """Beat's sweep every 5 minutes: the order mails still queued after a minute (see emails.send_queued_mail)."""
    return emails.send_queued_mail(older_than_seconds=SWEEP_AFTER_SECONDS)
