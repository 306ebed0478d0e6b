"""gunicorn settings for `make serve` / the Procfile's web process (see docs/operating.md).

Everything can be overridden from the environment: WEB_CONCURRENCY (workers,
default 2 x CPUs + 1), GUNICORN_BIND (default 127.0.0.1:$WEB_PORT, WEB_PORT
8001), GUNICORN_TIMEOUT.

Sync workers never face clients: a client trickling its headers would hold a
worker for as long as it likes. nginx (amazon_site/core/nginx.py, the Procfile's
``proxy``) listens on the public HOST:PORT, reads each request in full and
passes it on over loopback, so gunicorn binds loopback only.
"""
import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", f"127.0.0.1:{os.environ.get('WEB_PORT', '8001')}")
workers = int(os.environ.get("WEB_CONCURRENCY", 2 * multiprocessing.cpu_count() + 1))
# Sync workers: the store's requests are short database round trips; a slow
# one is cut by the database's statement timeout first.
worker_class = "sync"
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 30))
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so a slow leak cannot grow without bound.
max_requests = 2000
max_requests_jitter = 200
accesslog = "-"  # stdout
errorlog = "-"  # stderr
# The request id (set by RequestIdMiddleware) ends each access line.
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")

# Prometheus: the workers share their counters through files in this directory,
# so a scrape of any worker sees the totals. It must be set before the app
# imports prometheus_client, hence here. Unset, each server gets a new one of its
# own, so two servers on one machine never mix (or wipe) each other's counts.
_own_metrics_dir = "PROMETHEUS_MULTIPROC_DIR" not in os.environ
if _own_metrics_dir:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="amazon-site-prometheus-")


def on_starting(server):
    # Counters start at zero with the server: stale files from the last run go.
    directory = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(directory, ignore_errors=True)
    os.makedirs(directory, exist_ok=True)


def on_exit(server):
    if _own_metrics_dir:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
