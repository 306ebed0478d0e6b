from celery import shared_task

from . import jobs


@shared_task
def release_expired_reservations() -> int:
    """Beat runs this every minute; carts stay correct without it (see catalog.stock.reserve)."""
    return jobs.release_expired_reservations()


@shared_task
def delete_abandoned_carts() -> int:
    """Beat runs this daily."""
    return jobs.delete_abandoned_carts()
