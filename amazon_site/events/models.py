"""The transactional outbox: domain events written in the same transaction as
the change they describe, then relayed to Kafka (see services)."""
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone


class OutboxEvent(models.Model):
    # The id is the order of record: the relay publishes in id order, and
    # consumers dedupe by it (``event_id`` in the message).
    id = models.BigAutoField(primary_key=True)
    topic = models.CharField(max_length=100)  # "orders", "inventory"; the Kafka topic without its prefix
    key = models.CharField(max_length=100)  # the entity's id: events of one key keep their order in Kafka
    # Decimals (prices) are stored as strings, so no precision is lost on the way.
    payload = models.JSONField(encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The relay's scan: the oldest unpublished rows, without reading
            # the published ones, which are nearly all of the table.
            models.Index(fields=["id"], condition=Q(published_at__isnull=True), name="outbox_unpublished"),
        ]

    def __str__(self):
        return f"{self.topic}/{self.key} #{self.pk}"
