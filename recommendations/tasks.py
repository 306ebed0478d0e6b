"""Background jobs of recommendations, scheduled by Celery beat (see settings)."""
from celery import shared_task

from . import services


@shared_task
def compute_recommendations() -> int | None:
    """The nightly run; returns its id, or None when another run was still going."""
    run = services.compute_recommendations()
    return run.pk if run else None
