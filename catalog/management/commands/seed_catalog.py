import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.importing.services import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE
from catalog.models import Product
from catalog.seeding import seed_catalog


class Command(BaseCommand):
    help = "Add a realistic synthetic catalog: categories, brands, sellers, products and their stock."

    def add_arguments(self, parser):
        parser.add_argument("--products", type=int, required=True, help="How many products to add.")
        parser.add_argument("--seed", type=int, default=1, help="Random seed; the same seed gives the same catalog.")
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Products per transaction.")
        parser.add_argument(
            "--if-empty", action="store_true", help="Do nothing when the catalog already has products."
        )

    def handle(self, *args, products, seed, batch_size, if_empty, **options):
        if products < 0:
            raise CommandError("--products must be zero or more.")
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}.")
        if if_empty and Product.objects.exists():
            self.stdout.write("The catalog already has products; nothing seeded.")
            return
        started = time.perf_counter()
        with tqdm(total=products, unit="product", disable=options["verbosity"] == 0) as bar:
            added = seed_catalog(products, seed=seed, batch_size=batch_size, progress=bar.update)
        elapsed = time.perf_counter() - started
        self.stdout.write(self.style.SUCCESS(f"Seeded {added} products in {elapsed:.1f} s."))
