from .models import OutboxEvent


def unpublished_count() -> int:
    """Events waiting for the relay (uses the partial index of unpublished rows)."""
    return OutboxEvent.objects.filter(published_at__isnull=True).count()
