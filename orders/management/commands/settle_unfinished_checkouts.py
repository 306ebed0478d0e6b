"""Settle checkouts that stopped between placing and paying: beat's job, for a shop run without Celery."""
from django.conf import settings
from django.core.management.base import BaseCommand

from orders import checkout


class Command(BaseCommand):
    help = (
        "Ask the card processor about orders whose checkout did not finish (older than "
        "ORDER_UNFINISHED_CHECKOUT_MINUTES): pay those it charged, cancel and restock the others, "
        "refund a charge of an order already cancelled. What the processor cannot answer now is asked again "
        "at the next run. The beat task runs it every ORDER_SETTLE_INTERVAL_MINUTES."
    )

    def handle(self, *args, **options):
        settled = checkout.settle_unfinished_checkouts()
        self.stdout.write(
            f"Settled {settled} unfinished checkouts older than {settings.ORDER_UNFINISHED_CHECKOUT_MINUTES} minutes."
        )
