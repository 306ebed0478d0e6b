"""Read replicas: browse pages read from a streaming replica, a shopper's own pages from the primary.

A primary and a real replica of it (``tests/system/replication.py``), the
store served by gunicorn with ``DATABASE_REPLICA_URLS``. Pausing the
replica's replay makes the two copies differ: a renamed product keeps its
old title on the replica, so each page shows which copy it read.
"""
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests
from django.db import connection

from tests.processes import free_port, wait_for
from tests.system import replication

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(not replication.available(), reason="needs Debian's PostgreSQL 15 server binaries (initdb)"),
    # The pair is built apart from the suite's database: once, in the PostgreSQL pass (.ci/run runs two).
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL store's replicas: run with DATABASE_URL"),
]


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=REPO, env=env, check=True, capture_output=True)


@pytest.fixture(scope="module")
def copies():
    with replication.Replication() as (primary, replica):
        env = {**os.environ, "DEBUG": "1", "DATABASE_URL": primary.url()}
        env.pop("VALKEY_URL", None)  # each gunicorn's own local-memory cache: no page cached across servers
        manage(env, "migrate", "--noinput", "-v0")
        manage(env, "seed_catalog", "--products", "30", "--seed", "3")
        yield primary, replica


@pytest.fixture(scope="module")
def serve(copies):
    """Start gunicorn on the pair with the given environment; stopped at the end of the module."""
    primary, replica = copies
    servers = []

    def start(**variables):
        port = free_port()
        env = {
            **os.environ,
            "DEBUG": "1",
            "SECRET_KEY": "replicas-" + uuid.uuid4().hex,
            "DATABASE_URL": primary.url(),
            "DATABASE_REPLICA_URLS": replica.url(),
            "DATABASE_REPLICA_CHECK_SECONDS": "0.2",
            "DB_CONN_MAX_AGE": "0",
            "LOG_LEVEL": "WARNING",
            **variables,
        }
        env.pop("VALKEY_URL", None)
        process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "amazon_site.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        )
        servers.append(process)
        base = f"http://127.0.0.1:{port}"

        def answers():
            assert process.poll() is None, process.stderr.read()[-3000:]
            try:
                return requests.get(f"{base}/healthz", timeout=2).ok
            except requests.ConnectionError:
                return False

        wait_for(answers, 30, "gunicorn did not answer", interval=0.1)
        return base

    yield start
    for process in servers:
        process.terminate()
        process.wait(10)


@pytest.fixture
def renamed(copies):
    """A product renamed on the primary while the replica's replay is paused: (path, old title, new title)."""
    primary, replica = copies
    replica.sql("SELECT pg_wal_replay_resume()")
    product_id, slug, old = primary.sql(
        "SELECT id, slug, title FROM catalog_product WHERE is_active ORDER BY id LIMIT 1"
    ).split("|")
    new = f"Renamed {uuid.uuid4().hex[:8]}"
    wait_for(lambda: replica.sql(f"SELECT title FROM catalog_product WHERE id = {product_id}") == old, 10,
             "the replica did not catch up")
    replica.sql("SELECT pg_wal_replay_pause()")
    primary.sql(f"UPDATE catalog_product SET title = '{new}' WHERE id = {product_id}")
    yield f"/p/{product_id}/{slug}/", old, new
    replica.sql("SELECT pg_wal_replay_resume()")


def title_on(page):
    return re.search(r"<h1[^>]*>\s*([^<]+?)\s*</h1>", page).group(1)


def test_browse_pages_read_from_the_replica_and_the_cart_from_the_primary(serve, renamed):
    path, old, new = renamed
    base = serve(DATABASE_REPLICA_MAX_LAG_SECONDS="3600")
    shopper = requests.Session()
    page = shopper.get(base + path, timeout=10)
    assert page.status_code == 200
    assert title_on(page.text) == old  # the replica's copy

    token = shopper.cookies["csrftoken"]
    product_id = path.split("/")[2]
    added = shopper.post(base + "/cart/add/", data={"csrfmiddlewaretoken": token, "product": product_id,
                                                     "quantity": "1", "next": path},
                         headers={"Referer": base + path}, allow_redirects=False, timeout=10)
    assert added.status_code == 302
    pin = added.cookies.get("primary_reads")
    assert pin == "1"
    assert "Max-Age=10" in added.headers["Set-Cookie"]
    # Right after their write, the shopper's pages read from the primary.
    assert title_on(shopper.get(base + path, timeout=10).text) == new

    # Without the cookie the product page is the replica's again; the cart page never is, and the
    # session (which the replica has not seen yet) is read from the primary: the cart is still there.
    del shopper.cookies["primary_reads"]
    assert title_on(shopper.get(base + path, timeout=10).text) == old
    assert new in shopper.get(base + "/cart/", timeout=10).text


def test_a_replica_further_behind_than_allowed_is_skipped(serve, renamed):
    path, old, new = renamed
    base = serve(DATABASE_REPLICA_MAX_LAG_SECONDS="1")
    # Paused, the replica falls behind by the age of the last change it replayed.
    wait_for(lambda: title_on(requests.get(base + path, timeout=10).text) == new, 15,
             "a page still read the lagging replica")


def test_a_replica_that_does_not_answer_is_skipped(copies, serve, renamed):
    primary, replica = copies
    path, old, new = renamed
    base = serve(DATABASE_REPLICA_MAX_LAG_SECONDS="3600")
    assert title_on(requests.get(base + path, timeout=10).text) == old
    replica.stop()
    try:
        answers = [requests.get(base + path, timeout=10) for _ in range(5)]
        assert [answer.status_code for answer in answers] == [200] * 5
        assert title_on(answers[-1].text) == new
    finally:
        replica.start()


def test_the_instance_stays_ready_on_its_replica_while_the_primary_is_down(copies, serve):
    primary, replica = copies
    base = serve(DATABASE_REPLICA_MAX_LAG_SECONDS="3600")
    assert requests.get(base + "/readyz", timeout=10).json()["status"] == "ok"
    primary.stop()
    try:
        answer = requests.get(base + "/readyz", timeout=10)
        # A load balancer keeps the instance: its browse pages are read from the replica.
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "degraded"
        assert body["checks"]["database"]["status"] == "down"
        assert body["checks"]["replica1"]["status"] == "ok"
        replica.stop()
        assert requests.get(base + "/readyz", timeout=10).status_code == 503
    finally:
        primary.start()
        replica.start()
