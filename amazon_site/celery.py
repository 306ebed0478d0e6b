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
