"""Relay outbox events to Kafka: the long-running process of the outbox (see events.services)."""
import signal
import threading

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from amazon_site.events import selectors, services
from amazon_site.events.kafka import KafkaError


class Command(BaseCommand):
    help = "Publish outbox events to Kafka, in order, until stopped (or once with --once)."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Publish what is pending, then exit.")
        parser.add_argument("--interval", type=float, default=1.0, help="Seconds between rounds (default 1).")
        parser.add_argument("--batch-size", type=int, default=500, help="Events per transaction (default 500).")

    def handle(self, *args, once, interval, batch_size, **options):
        if not settings.KAFKA_BOOTSTRAP_SERVERS:
            raise CommandError(
                f"KAFKA_BOOTSTRAP_SERVERS is not set, so there is nothing to relay to: the "
                f"{selectors.unpublished_count()} unpublished events stay in the outbox (see the admin)."
            )
        # SIGTERM and Ctrl-C stop the relay between batches, so a batch in
        # flight is marked rather than sent again by the next relay.
        stop = threading.Event()
        previous = {signum: signal.signal(signum, lambda *_: stop.set()) for signum in (signal.SIGTERM, signal.SIGINT)}
        try:
            published = services.relay(once=once, interval=interval, batch_size=batch_size, stop=stop)
        except KafkaError as error:
            raise CommandError(f"Kafka is unavailable ({error!r}); the events stay in the outbox for the next run.")
        finally:
            for signum, handler in previous.items():
                signal.signal(signum, handler)
        self.stdout.write(f"Published {published} events.")
