import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from orders.models import Order
from recommendations.seeding import seed_orders


class Command(BaseCommand):
    help = (
        "Add synthetic paid (and some cancelled, returned, pending) orders with a planted co-purchase structure "
        "to the seeded catalog, written directly without checkout, for evaluating and benchmarking recommendations."
    )

    def add_arguments(self, parser):
        parser.add_argument("--orders", type=int, required=True, help="How many orders to add.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed and catalog give the same orders.")
        parser.add_argument(
            "--if-empty", action="store_true",
            help="Do nothing when any order exists, so a restart or a store with real orders is never touched.",
        )

    def handle(self, *args, orders, seed, if_empty, **options):
        if orders < 0:
            raise CommandError("--orders must be zero or more.")
        if if_empty and Order.objects.exists():
            self.stdout.write("Orders exist; nothing seeded.")
            return
        started = time.perf_counter()
        with tqdm(total=orders, unit="order", disable=options["verbosity"] == 0) as bar:
            try:
                added = seed_orders(orders, seed=seed, progress=bar.update)
            except ValueError as error:
                raise CommandError(str(error)) from error
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Seeded {added} orders in {elapsed:.1f} s."))
