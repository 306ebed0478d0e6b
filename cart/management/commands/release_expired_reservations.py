"""Free the stock of cart holds that ran out: beat's every-minute job, for a shop run without Celery."""
from django.core.management.base import BaseCommand

from cart import jobs


class Command(BaseCommand):
    help = (
        "Release the stock of expired cart reservations, as the beat task does every minute. "
        "Safe to run at any time, from cron or by hand."
    )

    def handle(self, *args, **options):
        released = jobs.release_expired_reservations()
        self.stdout.write(f"Released {released} expired reservations.")
