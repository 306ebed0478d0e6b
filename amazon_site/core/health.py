"""Probes for a load balancer or orchestrator.

- ``/healthz``: liveness, the process answers; touches no service.
- ``/readyz``: readiness, each service checked with a timeout of at most 1 s.
  Only the database makes it fail (503): without the cache, Elasticsearch or
  the broker the store still serves (cache misses, database search, and
  tasks wait), so those are reported "degraded" but keep the instance in.
  With read replicas, a primary that does not answer (a failover under way)
  is "degraded" too while a replica answers: browsing goes on from it, and a
  load balancer that took every instance out would stop that as well.
  The per-service checks are shown only to whoever may read the metrics
  (amazon_site/core/operations_access.py); anyone else gets the overall status.
"""
import contextvars
import logging
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.core.cache import cache
from django.db import connection, connections
from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from . import replicas
from .operations_access import may_read_details

logger = logging.getLogger(__name__)

TIMEOUT = 1.0  # seconds, per check
OK, DEGRADED, NOT_CONFIGURED, DOWN = "ok", "degraded", "not configured", "down"


@never_cache
@require_GET
def healthz(request):
    return JsonResponse({"status": "ok"})


def check_database():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return {"status": OK, "vendor": connection.vendor}


def check_replica(alias):
    # On this thread: a connection is its thread's, and the reads use this one.
    lag = replicas.lag_seconds(alias)
    return {"status": DEGRADED if replicas.too_far_behind(lag) else OK, "lag_s": round(lag, 3)}


def check_cache():
    key, value = f"readyz:{uuid.uuid4().hex}", uuid.uuid4().hex
    cache.set(key, value, 10)
    ok = cache.get(key) == value  # a Valkey outage is ignored by the client: the read comes back empty
    cache.delete(key)
    return {"status": OK if ok else DEGRADED, "backend": settings.CACHES["default"]["BACKEND"].rsplit(".", 1)[-1]}


def check_search():
    if not settings.ELASTICSEARCH_URL:
        return {"status": NOT_CONFIGURED, "backend": "database"}
    from elasticsearch_dsl import connections

    ok = connections.get_connection().options(request_timeout=TIMEOUT, max_retries=0).ping()
    return {"status": OK if ok else DEGRADED, "backend": "elasticsearch"}


def check_broker():
    if settings.CELERY_TASK_ALWAYS_EAGER:
        return {"status": NOT_CONFIGURED, "backend": "eager"}
    from kombu import Connection

    with Connection(settings.CELERY_BROKER_URL, connect_timeout=TIMEOUT, transport_options={"max_retries": 0}) as conn:
        conn.ensure_connection(max_retries=0, timeout=TIMEOUT)  # one attempt, no retry
    return {"status": OK, "backend": settings.CELERY_BROKER_URL.split(":", 1)[0]}


def _timed(name, check):
    started = time.monotonic()
    try:
        result = check()
    except Exception as error:  # noqa: BLE001 - a probe reports, it does not raise
        logger.warning("Readiness check of the %s failed: %r", name, error)
        result = {"status": DEGRADED, "error": error.__class__.__name__}
    result["ms"] = round((time.monotonic() - started) * 1000, 1)
    return result


@never_cache
@require_GET
def readyz(request):
    # The optional services are checked side by side, each bounded, so a dead one
    # costs the probe at most TIMEOUT; the database on this thread's own connection.
    pool = ThreadPoolExecutor(max_workers=3, thread_name_prefix="readyz")
    try:
        optional = {"cache": check_cache, "search": check_search, "broker": check_broker}
        # Each in a copy of this context, so their log lines carry the request id.
        futures = {
            name: pool.submit(contextvars.copy_context().run, _timed, name, check) for name, check in optional.items()
        }
        checks = {"database": _timed("database", check_database)}
        for name, future in futures.items():
            try:
                checks[name] = future.result(timeout=TIMEOUT + 0.2)
            except FutureTimeout:
                checks[name] = {"status": DEGRADED, "error": "timeout", "ms": TIMEOUT * 1000}
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
    for alias in settings.DATABASE_REPLICAS:
        checks[alias] = _timed(alias, lambda: check_replica(alias))
        if checks[alias]["status"] != OK:
            connections[alias].close()  # a broken connection is not reused by the next probe
    if checks["database"]["status"] != OK:
        checks["database"]["status"] = DOWN
    ready = any(checks[name]["status"] == OK for name in ("database", *settings.DATABASE_REPLICAS))
    status = OK if ready and all(c["status"] in (OK, NOT_CONFIGURED) for c in checks.values()) else (
        DEGRADED if ready else DOWN
    )
    body = {"status": status, "checks": checks} if may_read_details(request) else {"status": status}
    return JsonResponse(body, status=200 if ready else 503)
