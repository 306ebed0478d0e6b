from celery import shared_task

from . import services


@shared_task
def release_expired_reservations() -> int:
    """Beat runs this every minute; carts stay correct without it (see services)."""
    return services.release_expired_reservations()


@shared_task
def delete_abandoned_carts() -> int:
    """Beat runs this daily."""
    return services.delete_abandoned_carts()
