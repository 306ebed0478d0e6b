from datetime import timedelta

from celery import shared_task
from django.conf import settings

from . import services


@shared_task
def relay_events() -> int:
    """Beat's relay every 10 s; it skips its round while ``manage.py relay_events`` runs (see services)."""
    if not settings.KAFKA_BOOTSTRAP_SERVERS:
        # Without Kafka the events stay in the outbox, visible in the admin.
        return 0
    return services.relay(once=True)


@shared_task
def prune_published_events() -> int:
    """Daily: published events older than EVENTS_KEEP_PUBLISHED_DAYS leave the outbox (Kafka keeps them)."""
    return services.prune_published(older_than=timedelta(days=settings.EVENTS_KEEP_PUBLISHED_DAYS))
