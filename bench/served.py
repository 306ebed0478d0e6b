"""gunicorn with production settings on a free loopback port, for the benches that time the store over HTTP.

Shared by ``load.py``, ``search_http.py`` and ``dashboard_http.py`` so all measure the same server
(and report the PostgreSQL settings in force alike):
the repo's ``gunicorn.conf.py``, ``DEBUG=0``, Valkey and persistent database
connections as configured by the caller's environment, with only what a
loopback run from one address over plain HTTP needs lifted (see
``server_env``). No Django import: the scripts set Django up themselves.
"""
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


# The PostgreSQL settings a bench reports, as the server has them and as the store's connections do.
PG_SETTINGS = ["shared_buffers", "work_mem", "effective_cache_size", "random_page_cost", "jit",
               "max_parallel_workers_per_gather", "statement_timeout"]


def add_shopper_arguments(parser):
    """load.py's shopper mix's options, which failover.py runs too."""
    parser.add_argument("--users", type=int, default=16, help="Concurrent virtual shoppers.")
    parser.add_argument("--warmup", type=float, default=5, help="Seconds of the same load before measuring.")
    parser.add_argument("--workers", type=int, default=2 * os.cpu_count() + 1, help="gunicorn workers.")
    parser.add_argument("--shoppers", type=int, default=200, help="Accounts that shop (at least --users).")
    parser.add_argument("--hot", type=int, default=100, help="Products with small stock that cart adds favour.")
    parser.add_argument("--sample", type=int, default=5000, help="Products browsed and searched for.")
    parser.add_argument("--decline-share", type=float, default=0.05, help="Checkouts paying with the declined card.")
    parser.add_argument("--timeout", type=float, default=30, help="Seconds before a request counts as an error.")
    parser.add_argument("--seed", type=int, default=1)


def postgres_settings(connection):
    """The server's own values (a connection without the store's options) and those of the store's ``connection``."""
    with connection.cursor() as cursor:
        store = {}
        for name in PG_SETTINGS:
            cursor.execute(f"SHOW {name}")
            store[name] = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    params = connection.get_connection_params()
    params.pop("options", None)
    with connection.Database.connect(**params) as raw:
        server = {name: raw.execute(f"SHOW {name}").fetchone()[0] for name in PG_SETTINGS}
    return {"version": version, "server": server, "store_connection": store}


def percentile(ordered, fraction):
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def free_port():
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def interrupted(signum, frame):
    raise KeyboardInterrupt


def raise_on_signals():
    """Ctrl-C and kill unwind the script, so gunicorn (in a session of its own) is stopped too.

    A background job starts with SIGINT ignored, hence the explicit handler.
    """
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, interrupted)


def server_env(port, workers):
    # The embedded stand-ins for the broker, search and events: the setup is PostgreSQL + Valkey.
    unset = {"CELERY_BROKER_URL", "ELASTICSEARCH_URL", "KAFKA_BOOTSTRAP_SERVERS"}
    env = {key: value for key, value in os.environ.items() if key not in unset}
    env.update(
        DEBUG="0",
        SECRET_KEY=os.environ["SECRET_KEY"],
        ALLOWED_HOSTS=HOST,
        # gunicorn alone, on loopback: the bench measures the store, not nginx in front of it.
        GUNICORN_BIND=f"{HOST}:{port}",
        WEB_CONCURRENCY=str(workers),
        SECURE_SSL_REDIRECT="0",
        SESSION_COOKIE_SECURE="0",
        CSRF_COOKIE_SECURE="0",
        SECURE_HSTS_SECONDS="0",
        RATELIMIT_ENABLED="0",
        API_THROTTLE_ANON="1000000/min",
        API_THROTTLE_USER="1000000/min",
        EMAIL_BACKEND="django.core.mail.backends.dummy.EmailBackend",
        LOG_LEVEL="WARNING",
        METRICS_PUBLIC="1",  # a loopback run: it logs /readyz's per-service checks
        # Our own directory: gunicorn.conf.py empties it at start, and another server may use the default.
        PROMETHEUS_MULTIPROC_DIR=tempfile.mkdtemp(prefix="loadbench-prometheus-"),
    )
    return env


def collectstatic(env):
    """``DEBUG`` is off, so pages need the static manifest."""
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"], cwd=REPO, env=env, check=True
    )


def start_server(env, log_file):
    gunicorn = Path(sys.executable).parent / "gunicorn"
    return subprocess.Popen(
        [str(gunicorn), "amazon_site.wsgi", "--config", "gunicorn.conf.py"],
        cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True,
    )


def stop_server(process):
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # graceful: workers finish their request
    try:
        process.wait(timeout=40)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def wait_ready(port, process, timeout=90):
    """``/readyz``'s answer once it is 200; gunicorn exiting or staying unready ends the script."""
    limit = time.monotonic() + timeout
    while time.monotonic() < limit:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}; see its log")
        conn = http.client.HTTPConnection(HOST, port, timeout=5)
        try:
            conn.request("GET", "/readyz")
            answer = conn.getresponse()
            if answer.status == 200:
                return json.loads(answer.read())
        except (OSError, http.client.HTTPException, ValueError):
            pass
        finally:
            conn.close()
        time.sleep(0.25)
    raise SystemExit("gunicorn did not become ready")


@contextmanager
def gunicorn(env, port, log_path):
    """A ready gunicorn (yields ``/readyz``'s answer), stopped on leaving, also on an error or Ctrl-C."""
    with open(log_path, "ab") as log_file:
        process = start_server(env, log_file)
        try:
            yield wait_ready(port, process)
        finally:
            stop_server(process)
            shutil.rmtree(env["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
