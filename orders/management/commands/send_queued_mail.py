"""Send the order mails still queued: beat's sweep, for a shop run without Celery or after a broker outage."""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders import emails, selectors


class Command(BaseCommand):
    help = (
        "Send the order mails still queued in the database (OutgoingMail), oldest first: those whose task "
        "was lost to a broker outage, and those whose sending failed and is tried again. A mail that fails "
        f"MAIL_MAX_ATTEMPTS times ({settings.MAIL_MAX_ATTEMPTS}) is marked failed (see the admin). The beat task "
        "does this every 5 minutes for mails queued longer than a minute. Safe to run at any time, from cron or "
        "by hand; on PostgreSQL also beside the workers, as a mail being sent is locked. Prints how many it "
        "sent, how many mails have failed in all, and how many are still queued."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, help="Send at most this many mails (default: all that are queued).")
        parser.add_argument(
            "--older-than", type=int, default=0, metavar="SECONDS",
            help="Only mails queued at least this many seconds ago (default 0: all).",
        )

    def handle(self, *args, limit, older_than, **options):
        if (limit is not None and limit < 1) or older_than < 0:
            raise CommandError("--limit must be at least 1 and --older-than at least 0.")
        sent = emails.send_queued_mail(limit=limit, older_than_seconds=older_than)
        unsent = selectors.unsent_mail_counts()
        self.stdout.write(f"Sent {sent} mails; {unsent['failed']} failed; {unsent['queued']} still queued.")
