"""Rebuild the header search box's completions now, instead of waiting for the nightly task."""
import time

from django.core.management.base import BaseCommand

from catalog.search.typeahead import refresh_typeahead


class Command(BaseCommand):
    help = "Rebuild the type-ahead entries (categories, brands, active products) from the catalog."

    def handle(self, *args, **options):
        started = time.perf_counter()
        entries = refresh_typeahead()
        self.stdout.write(self.style.SUCCESS(f"{entries} type-ahead entries in {time.perf_counter() - started:.1f} s."))
