"""The store's business metrics, served with django-prometheus's at ``/metrics``.

- ``store_checkouts_total{outcome}``: placed (paid), declined (the card was), unconfirmed (the gateway did not answer),
  refused (the cart could not become an order: stock, changed prices);
- ``store_stock_units_total{change}``: units reserved, released, sold,
  restocked, counted when their transaction commits;
- ``store_outbox_unpublished_events``: events waiting for the Kafka relay,
  read from the database at scrape time (-1 when it cannot be read).

Under gunicorn the workers share their counters through
``PROMETHEUS_MULTIPROC_DIR`` (set by gunicorn.conf.py), so any worker's
``/metrics`` reports the sum over all of them. Counters are per process:
stock released by the Celery expiry task is counted in the worker process,
which exports nothing.
"""
import logging
import os

from django.db import transaction
from django.http import HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, Counter, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

from .operations_access import may_read_details

logger = logging.getLogger(__name__)

CHECKOUTS = Counter(
    "store_checkouts",
    "Checkouts by outcome: placed (paid), declined (the card was), unconfirmed (the gateway did not answer), "
    "refused (the cart could not become an order).",
    ["outcome"],
)
STOCK_UNITS = Counter("store_stock_units", "Units of stock reserved, released, sold or restocked.", ["change"])


def checkout(outcome: str) -> None:
    CHECKOUTS.labels(outcome=outcome).inc()


def stock_changed(change: str, allocations) -> None:
    units = sum(allocation.quantity for allocation in allocations)
    if units:
        transaction.on_commit(lambda: STOCK_UNITS.labels(change=change).inc(units))


class OutboxCollector:
    """The outbox backlog, read at scrape time only: never at import, and a
    database outage gives -1 instead of a failed scrape."""

    NAME = "store_outbox_unpublished_events"
    HELP = "Events in the outbox not yet relayed to Kafka (-1 when the database cannot be read)."

    def describe(self):
        # Registering asks for the names; answering here keeps that from querying the database.
        return [GaugeMetricFamily(self.NAME, self.HELP)]

    def collect(self):
        from amazon_site.events.selectors import unpublished_count

        try:
            value = unpublished_count()
        except Exception as error:  # noqa: BLE001 - any database error; the scrape still answers
            logger.warning("Could not count unpublished outbox events: %r", error)
            value = -1
        yield GaugeMetricFamily(self.NAME, self.HELP, value=value)


OUTBOX = OutboxCollector()
REGISTRY.register(OUTBOX)


def _multiprocess() -> bool:
    return bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR") or os.environ.get("prometheus_multiproc_dir"))


def export(request):
    """``/metrics``: django-prometheus's and the store's metrics, in Prometheus' text format.

    Only for a request with ``Authorization: Bearer <METRICS_TOKEN>``, or for
    anyone with METRICS_PUBLIC (DEBUG's default); others get a 404.
    """
    if not may_read_details(request):
        return HttpResponse("Not found.\n", status=404, content_type="text/plain")
    if _multiprocess():
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        registry.register(OUTBOX)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
