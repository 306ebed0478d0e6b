"""The Celery application.

Without ``CELERY_BROKER_URL`` tasks run eagerly in-process (see settings), so
the store works on a bare machine; with it, run a worker and beat.
"""
import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")

app = Celery("amazon_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="amazon_site.clear_expired_sessions")
def clear_expired_sessions():
    """Daily: expired sessions leave the database (crawlers start one per product view)."""
    from django.core.management import call_command

    call_command("clearsessions")
