"""Build the Elasticsearch product index (replaces django-elasticsearch-dsl's command).

Same name and main flags as the library's command, with a progress bar and
batches sized for a 100M-product catalog (ids are read in keyset order, never
with OFFSET).
"""
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.documents import ProductDocument
from catalog.models import Product
from catalog.search.elasticsearch import ElasticsearchBackend


class Command(BaseCommand):
    help = "Create, populate or rebuild the Elasticsearch product index."

    def add_arguments(self, parser):
        action = parser.add_mutually_exclusive_group(required=True)
        action.add_argument("--rebuild", action="store_true", help="Delete, create and populate the index.")
        action.add_argument("--populate", action="store_true", help="Index every active product into the existing index.")
        action.add_argument("--delete", action="store_true", help="Delete the index.")
        parser.add_argument("--batch-size", type=int, default=2000)

    def handle(self, *args, rebuild, populate, delete, batch_size, **options):
        if not settings.ELASTICSEARCH_URL:
            raise CommandError(
                "ELASTICSEARCH_URL is not set. The database search backend needs no index: "
                "database triggers keep it current."
            )
        index = ProductDocument._index
        if rebuild or delete:
            index.delete(ignore_unavailable=True)
            self.stdout.write(f"Deleted index '{index._name}'.")
        if delete:
            return
        if rebuild:
            index.create()
            self.stdout.write(f"Created index '{index._name}'.")
        backend = ElasticsearchBackend()
        active = Product.objects.filter(is_active=True)
        last_id = 0
        with tqdm(total=active.count(), unit="product", disable=options["verbosity"] == 0) as bar:
            while ids := list(active.filter(pk__gt=last_id).order_by("pk").values_list("pk", flat=True)[:batch_size]):
                backend.index(ids)
                last_id = ids[-1]
                bar.update(len(ids))
        index.refresh()
        self.stdout.write(self.style.SUCCESS(f"Indexed {active.count()} products."))
