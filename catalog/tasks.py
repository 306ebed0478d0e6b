"""Background jobs of the catalog, scheduled by Celery beat (see settings)."""
from datetime import timedelta

from celery import shared_task
from django.conf import settings
from django.utils import timezone

from .models import Product
from .search.elasticsearch import ElasticsearchBackend
from .search.suggestions import refresh_search_terms as rebuild_search_terms
from .search.typeahead import refresh_typeahead as rebuild_typeahead

SYNC_BATCH_SIZE = 1000


@shared_task
def sync_search_index(minutes: int = 5) -> int:
    """Send products changed in the last few minutes to Elasticsearch.

    Product edits, (de)activation and stock running out or coming back all
    move ``updated_at`` (the last two through database triggers), so one
    query finds every change. Runs every minute; the overlap makes a missed
    run harmless. The database backend needs nothing: triggers keep it current.
    """
    if not settings.ELASTICSEARCH_URL:
        return 0
    since = timezone.now() - timedelta(minutes=minutes)
    ids = list(Product.objects.filter(updated_at__gte=since).values_list("pk", flat=True))
    backend = ElasticsearchBackend()
    for start in range(0, len(ids), SYNC_BATCH_SIZE):
        backend.index(ids[start : start + SYNC_BATCH_SIZE])
    return len(ids)


@shared_task
def remove_from_search_index(product_ids: list[int]) -> None:
    """Drop deleted products from Elasticsearch (the database's triggers drop them there)."""
    if settings.ELASTICSEARCH_URL:
        ElasticsearchBackend().remove(product_ids)


@shared_task
def refresh_search_terms() -> int:
    return rebuild_search_terms()


@shared_task
def refresh_typeahead() -> int:
    return rebuild_typeahead()
