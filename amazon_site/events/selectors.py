from django.utils import timezone

from amazon_site.core.dashboard import Figure, changelist, counted

from .models import OutboxEvent


def unpublished_count() -> int:
    """Events waiting for the relay (uses the partial index of unpublished rows)."""
    return OutboxEvent.objects.filter(published_at__isnull=True).count()


def staff_dashboard(*, now=None) -> list[Figure]:
    """The outbox figures of the admin index: the relay's backlog and how long its oldest event has waited."""
    now = now or timezone.now()
    unpublished = OutboxEvent.objects.filter(published_at__isnull=True)
    oldest = unpublished.order_by("id").values_list("created_at", flat=True).first()
    waited = int((now - oldest).total_seconds() // 60) if oldest else 0
    url = changelist(OutboxEvent, published="no")
    return [
        counted("Events waiting for the relay", unpublished.order_by(), url),
        # A backlog is normal for a few seconds (the relay runs every ten); minutes mean it is stuck.
        Figure("Minutes the oldest has waited", f"{waited:,}", url, attention=waited > 0),
    ]
