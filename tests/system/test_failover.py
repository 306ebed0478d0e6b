"""Failover: the loss of a database server and of the Valkey primary, on a real high-availability set.

``bench/cluster.py`` builds the set from Debian's packages on free ports (a
pg_auto_failover monitor and two PostgreSQL nodes, a PgBouncer in transaction
mode in front of each, Valkey with a replica and three Sentinels). First the
pieces the store relies on (and a primary left without its secondary), then
the store itself: ``bench/failover.py``'s
shopper mix with the primary PostgreSQL machine and then the Valkey primary
SIGKILLed mid-run, audited afterwards.

Skipped, with the reason, without the packages or without root (the set's
PostgreSQL servers run as the ``postgres`` user).
"""
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest
from django.db import connection
from django_redis.cache import RedisCache

from bench.cluster import HOST, VALKEY_SERVICE, Cluster, missing_programs
from tests.processes import wait_for

REPO = Path(__file__).resolve().parents[2]
MISSING = missing_programs()

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(bool(MISSING), reason=f"needs the Debian packages {', '.join(MISSING)} (see .ci/run)"),
    pytest.mark.skipif(os.geteuid() != 0, reason="starts PostgreSQL as the postgres user: needs root"),
    # The set is built apart from the suite's database: once, in the PostgreSQL pass (.ci/run runs two).
    pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL store's set: run with DATABASE_URL"),
]


@pytest.fixture(scope="module")
def cluster():
    with Cluster() as built:
        yield built


def connect(url):
    return psycopg.connect(url, autocommit=True, connect_timeout=3)


def test_pgbouncer_in_transaction_mode_sets_what_the_store_no_longer_sends(cluster):
    """Without the ``options`` startup parameter, jit and statement_timeout come from PgBouncer's connect_query."""
    for _ in range(3):  # new clients, and transactions that may each get another server connection
        with connect(cluster.database_url()) as conn:
            for _ in range(3):
                with conn.transaction():
                    assert conn.execute("SHOW statement_timeout").fetchone() == ("15s",)
                    assert conn.execute("SHOW jit").fetchone() == ("off",)
    with connect(f"postgres://postgres@{HOST}:{cluster.nodes[0].bouncer_port}/pgbouncer") as admin:
        config = {row[0]: row[1] for row in admin.cursor().execute("SHOW CONFIG")}
    assert config["pool_mode"] == "transaction"


def test_read_write_through_the_pgbouncers_finds_the_primary_and_prefer_standby_the_secondary(cluster):
    primary, secondary = cluster.nodes
    with connect(cluster.database_url()) as conn:
        assert conn.info.port == primary.bouncer_port
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (False,)
    with connect(cluster.database_url(read_write=False)) as conn:
        assert conn.info.port == secondary.bouncer_port
        assert conn.execute("SELECT pg_is_in_recovery()").fetchone() == (True,)


def test_the_sentinel_client_reads_and_writes_the_cache_after_the_valkey_primary_is_killed(cluster):
    cache = RedisCache(
        f"redis://{VALKEY_SERVICE}/3",
        {
            "OPTIONS": {
                "CLIENT_CLASS": "django_redis.client.SentinelClient",
                "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
                "SENTINELS": [(HOST, port) for port in cluster.sentinel_ports],
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
            },
        },
    )
    cache.set("before", "kept", timeout=600)
    assert cache.client.get_client(write=True).wait(1, 2000) == 1  # on the replica before its primary dies
    port, killed_at = cluster.kill_valkey_primary()
    assert cluster.wait_for_valkey_primary(port, killed_at) < 15

    def answers():
        try:
            return cache.set("after", "written", timeout=600) and cache.get("after") == "written"
        except Exception:  # noqa: BLE001 - a pool still holding the dead primary's connections
            return False

    wait_for(answers, 10, "the cache did not answer through the Sentinels' new primary", interval=0.2)
    assert cache.get("before") == "kept"
    assert cache.client.get_client(write=True).connection_pool.get_master_address()[1] != port


def test_the_multi_host_url_follows_the_new_primary_after_the_primary_machine_is_killed(cluster):
    with connect(cluster.database_url(dbname="postgres")) as conn:
        conn.execute("CREATE TABLE committed (note text)")
        conn.execute("INSERT INTO committed VALUES ('before the kill')")
    killed = cluster.kill_primary()
    assert cluster.wait_for_primary(killed) < 30

    survivor = next(node for node in cluster.nodes if node is not killed)
    with connect(cluster.database_url(dbname="postgres")) as conn:
        assert conn.info.port == survivor.bouncer_port
        assert conn.execute("SELECT note FROM committed").fetchall() == [("before the kill",)]  # synchronous
        conn.execute("INSERT INTO committed VALUES ('after')")  # alone, the survivor does not wait for a standby
    assert cluster.synchronous_standby_names(survivor) == ""
    with connect(cluster.database_url()) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("15s",)


def test_the_primary_takes_writes_alone_seconds_after_its_secondary_is_killed():
    """While both nodes are up a commit waits for the secondary (the replication quorum); without it, not for long."""
    with Cluster() as alone:
        primary, secondary = alone.nodes
        assert alone.synchronous_standby_names(primary) == "ANY 1 (pgautofailover_standby_2)"
        alone.kill(secondary)
        with connect(alone.database_url(dbname="postgres")) as conn:
            conn.execute("CREATE TABLE after_the_secondary (at timestamptz)")
            conn.execute("INSERT INTO after_the_secondary VALUES (now())")  # waits until the monitor lets it go
        assert time.time() - secondary.killed_at < 15
        assert alone.synchronous_standby_names(primary) == ""


def test_shopping_through_a_failover_loses_and_double_charges_nothing():
    """The store on the set, shoppers at it, the primary PostgreSQL machine and then the Valkey primary killed."""
    # The bench's own settings, as from a shell: not the test settings pytest put in the environment.
    env = {key: value for key, value in os.environ.items() if key not in ("DJANGO_SETTINGS_MODULE", "DEBUG")}
    run = subprocess.run(
        [sys.executable, "bench/failover.py", "--duration", "30", "--warmup", "2", "--products", "2000", "--users", "8",
         "--log", os.devnull],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
    )
    assert run.stdout, run.stderr[-3000:]
    result = json.loads(run.stdout.splitlines()[-1])
    summary = {key: result[key] for key in (
        "browse_availability", "checkout_unavailable_s", "postgres_failover_s", "valkey_failover_s", "goals_missed")}
    for counter in ("oversold", "lost_paid_orders", "duplicate_charges", "books_unbalanced"):
        assert result[counter] == 0, (counter, summary)
    assert result["orders"]["paid"] > 0, summary
    assert result["checkout_recovered"] and result["checkout_unavailable_s"] <= 30, summary
    assert result["browse_availability"] >= 0.999, summary
    assert run.returncode == 0, summary
