"""The Celery application.

Without ``CELERY_BROKER_URL`` tasks run eagerly in-process (see settings), so
the store works on a bare machine; with it, run a worker and beat.
"""
import logging
import os

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")

app = Celery("amazon_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger(__name__)


def enqueue_on_commit(task, *args) -> None:
    """Queue ``task`` once the current transaction commits, never failing the request.

    By then the writes are done: a broker outage (or, with eager tasks, a mail
    server outage) must not turn a placed order into an error page. What is
    queued this way is a courtesy (a mail, an index clean-up); if it cannot be
    queued it is logged with its arguments, and the request goes on.
    """
    transaction.on_commit(lambda: _enqueue(task, args))


def _enqueue(task, args) -> None:
    try:
        task.delay(*args)
    except Exception:
        logger.exception("task %s%r was not queued", task.name, args)


@app.task(name="amazon_site.clear_expired_sessions")
def clear_expired_sessions():
    """Daily: expired sessions leave the database."""
    from django.core.management import call_command

    call_command("clearsessions")
