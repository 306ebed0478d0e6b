"""A high-availability set on this machine, built from Debian's packages, for the benches and tests that kill servers.

What the store runs on when it must survive the loss of a database server
(issue 19), small enough to build in seconds in a temporary directory on free
loopback ports, and to break on purpose:

- PostgreSQL 15 under pg_auto_failover: a monitor and two nodes (a primary and
  a streaming secondary), each run by its ``pg_autoctl`` keeper. The monitor's
  health checks and the keepers' timeouts are tuned down, so a dead primary is
  replaced in seconds instead of the defaults' half a minute. While both nodes
  are up, commits wait for the secondary (pg_auto_failover's replication
  quorum, ``synchronous_standby_names = 'ANY 1 (...)'``): an order committed on
  the primary survives its loss. Once one node is gone the monitor moves the
  survivor to ``wait_primary`` with ``synchronous_standby_names = ''``, so it
  accepts writes alone: after a dead secondary, commits on the primary wait
  about 3 s for that; after a dead primary, the secondary is promoted in 8-9 s.
- One PgBouncer per node, in transaction mode, in front of that node only: a
  "machine" is its keeper, its PostgreSQL and its PgBouncer, and dies whole.
  PgBouncer 1.18 refuses the ``options`` startup parameter, so ``jit`` and
  ``statement_timeout`` come from the database entry's ``connect_query``. The
  store finds the primary among the PgBouncers with a libpq multi-host URL and
  ``target_session_attrs=read-write``.
- Valkey (``redis-server``): a primary, a replica and three Sentinels (quorum
  2, down after 1 s), nothing saved to disk.

PostgreSQL, pg_autoctl and PgBouncer refuse to run as root: they run as the
``postgres`` OS user, in a directory of their own. Used as a context manager
the set is torn down on leaving, also on an error or Ctrl-C: servers stopped,
the directory removed (``keep=True`` leaves the directory, with the logs).

    with Cluster() as cluster:
        cluster.seed(products=2000)
        env = cluster.store_env()          # DATABASE_URL, DATABASE_REPLICA_URLS, VALKEY_URL, ...
        killed = cluster.kill_primary()    # SIGKILL the primary's machine
        cluster.wait_for_primary(killed)   # seconds until another node takes writes

No Django import: the benches set Django up themselves, with this set's URLs.
"""
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import redis

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
PG_BIN = Path("/usr/lib/postgresql/15/bin")
PROGRAMS = {
    "pg_autoctl": "pg_autoctl (postgresql-15-auto-failover)",
    "pgbouncer": "pgbouncer",
    "redis-server": "redis-server",
    "redis-sentinel": "redis-sentinel",
}
OS_USER = "postgres"
DBNAME = "store"
VALKEY_SERVICE = "store-valkey"

# The monitor: a health check every second, one retry, a node unhealthy after 3 s without a keeper report.
# A primary that cannot be reached is taken for demoted after 5 s: longer than the keepers' network partition
# timeout (3 s), after which a primary cut off from the monitor and its standby demotes itself.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 3000,
    "pgautofailover.primary_demote_timeout": 5000,
    "pgautofailover.startup_grace_period": 2000,
}
KEEPER_SETTINGS = {
    "timeout.network_partition_timeout": 3,
    "timeout.prepare_promotion_catchup": 10,
    "timeout.prepare_promotion_walreceiver": 2,
}
# What the store's connection options set without a pooler (amazon_site/settings.py).
CONNECT_QUERY = "SET jit = off; SET statement_timeout = 15000"
WRITABLE_STATES = {"primary", "wait_primary", "single"}


def missing_programs():
    """What is not installed, as the Debian packages to install: the set cannot be built without them."""
    found = {name: shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin") for name in PROGRAMS}
    gone = [PROGRAMS[name] for name, path in found.items() if not path]
    if not (PG_BIN / "pg_ctl").exists():
        gone.append("postgresql-15")
    return gone


def log(message):
    print(f"[cluster] {message}", file=sys.stderr, flush=True)


def free_ports(count):
    """``count`` distinct loopback ports nothing listens on, held open together so none comes back twice."""
    sockets = []
    try:
        for _ in range(count):
            sock = socket.socket()
            sock.bind((HOST, 0))
            sockets.append(sock)
        return [sock.getsockname()[1] for sock in sockets]
    finally:
        for sock in sockets:
            sock.close()


def descendants(pid):
    """``pid`` and every process below it, parents first (PostgreSQL's backends are in sessions of their own)."""
    children = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parent = int(stat.rsplit(")", 1)[1].split()[1])
            children.setdefault(parent, []).append(int(entry.name))
    tree, queue = [], [pid]
    while queue:
        current = queue.pop(0)
        tree.append(current)
        queue.extend(children.get(current, []))
    return tree


def signal_all(pids, signum):
    for pid in pids:
        try:
            os.kill(pid, signum)
        except ProcessLookupError:
            pass


def kill_tree(pid):
    """SIGKILL a process and everything it started, at once: stopped first, so nothing forks in between."""
    signal_all(descendants(pid), signal.SIGSTOP)
    tree = descendants(pid)
    signal_all(tree, signal.SIGKILL)
    return tree


@dataclass
class Service:
    """A server process of the set, with its log."""

    name: str
    process: subprocess.Popen
    log: Path

    def alive(self):
        return self.process.poll() is None

    def stop(self, signum=signal.SIGTERM, timeout=20):
        if not self.alive():
            return
        self.process.send_signal(signum)
        try:
            self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            log(f"{self.name} did not stop on {signal.Signals(signum).name}: killed")
        kill_tree(self.process.pid)  # what outlived it (a PostgreSQL backend, say)
        self.process.wait()


@dataclass
class Node:
    """A PostgreSQL "machine": its pg_autoctl keeper (which runs PostgreSQL) and its PgBouncer."""

    name: str
    pgdata: Path
    port: int
    bouncer_port: int
    services: list = field(default_factory=list)
    killed_at: float | None = None


class Cluster:
    def __init__(self, keep=False):
        self.keep = keep
        self.dir = Path(tempfile.mkdtemp(prefix="store-cluster-"))
        self.sockets = self.dir / "sockets"  # PostgreSQL's, not the shared /var/run/postgresql
        self.services = []  # in start order; stopped in reverse
        ports = free_ports(10)
        self.monitor_port = ports[0]
        self.nodes = [
            Node("node1", self.dir / "node1", ports[1], ports[2]),
            Node("node2", self.dir / "node2", ports[3], ports[4]),
        ]
        self.valkey_ports = ports[5:7]
        self.sentinel_ports = ports[7:10]
        self.valkey = {}  # port -> Service
        self.started_in = None
        self.stopping = threading.Event()
        self.hook = threading.Thread(target=self._promotion_hook, name="promotion-hook", daemon=True)

    # --- building ---

    def __enter__(self):
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def start(self):
        started = time.monotonic()
        user = pwd.getpwnam(OS_USER)
        os.chown(self.dir, user.pw_uid, user.pw_gid)
        self.dir.chmod(0o755)
        for directory in (self.sockets, self.dir / "run"):  # pg_autoctl's pid files go to /tmp without "run"
            directory.mkdir(mode=0o700)
            os.chown(directory, user.pw_uid, user.pw_gid)
        self._start_valkey()
        self._create_monitor()
        primary, secondary = self.nodes
        self._create_node(primary)
        self._wait_states({primary.name: {"single"}}, 60)
        self._create_node(secondary)
        self._wait_states({primary.name: {"primary"}, secondary.name: {"secondary"}}, 90)
        for node in self.nodes:
            self._start_bouncer(node)
        self._wait_valkey_replica(30)
        self.hook.start()
        self.started_in = time.monotonic() - started
        log(f"up in {self.started_in:.1f} s in {self.dir}")

    def _as_postgres(self, argv, log_path, *, wait):
        """Run ``argv`` as the postgres user with the set's own pg_autoctl config, state and socket directories."""
        env = {
            "PATH": f"{PG_BIN}:/usr/bin:/usr/sbin:/bin",
            "HOME": str(self.dir),
            "XDG_CONFIG_HOME": str(self.dir / "config"),
            "XDG_DATA_HOME": str(self.dir / "share"),
            "XDG_RUNTIME_DIR": str(self.dir / "run"),
            "PGHOST": str(self.sockets),
            "PG_CONFIG": str(PG_BIN / "pg_config"),
            "LANG": "C.UTF-8",
        }
        out = open(log_path, "ab")
        try:
            process = subprocess.Popen(
                argv, cwd=self.dir, env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                user=OS_USER, group=OS_USER, extra_groups=[], start_new_session=True,
            )
        finally:
            out.close()
        if wait:
            try:
                process.wait()
            except BaseException:  # Ctrl-C while it runs: it is in a session of its own, so stop it here
                kill_tree(process.pid)
                process.wait()
                raise
            if process.returncode != 0:
                command = " ".join(map(str, argv[:3]))
                raise RuntimeError(f"{command} failed with status {process.returncode}; see {log_path}")
            return None
        return process

    def _initdb(self, pgdata, port, extra=""):
        """initdb ourselves, so PostgreSQL listens on loopback only and puts its socket in the set's directory."""
        self._as_postgres(
            [PG_BIN / "initdb", "--pgdata", pgdata, "--username", "postgres", "--auth", "trust", "--encoding", "UTF8",
             "--locale", "C.UTF-8", "--no-sync"],
            self.dir / f"{pgdata.name}-initdb.log", wait=True,
        )
        with open(pgdata / "postgresql.conf", "a") as conf:
            conf.write(f"\nlisten_addresses = '{HOST}'\nport = {port}\nunix_socket_directories = '{self.sockets}'\n")
            conf.write(extra)

    def _run_as_postgres(self, name, argv):
        """A server of the set run as the postgres user, its output in ``<name>.log``."""
        log_path = self.dir / f"{name}.log"
        service = Service(name, self._as_postgres(argv, log_path, wait=False), log_path)
        self.services.append(service)
        return service

    def _run_keeper(self, name, pgdata):
        return self._run_as_postgres(name, ["pg_autoctl", "run", "--pgdata", pgdata])

    def _create_monitor(self):
        pgdata = self.dir / "monitor"
        settings = "".join(f"{name} = {value}\n" for name, value in MONITOR_SETTINGS.items())
        self._initdb(pgdata, self.monitor_port, settings)
        self._as_postgres(
            ["pg_autoctl", "create", "monitor", "--pgdata", pgdata, "--pgport", str(self.monitor_port),
             "--hostname", HOST, "--listen", HOST, "--auth", "trust", "--no-ssl", "--pgctl", PG_BIN / "pg_ctl"],
            self.dir / "monitor-create.log", wait=True,
        )
        self._run_keeper("monitor", pgdata)
        deadline = time.monotonic() + 30
        while True:
            try:
                with self._connect(self.monitor_port, "pg_auto_failover") as conn:
                    conn.execute("SELECT 1 FROM pgautofailover.node LIMIT 1")
                    return
            except psycopg.Error:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the monitor did not come up; see {self.dir / 'monitor.log'}")
                time.sleep(0.2)

    def monitor_url(self):
        return f"postgres://autoctl_node@{HOST}:{self.monitor_port}/pg_auto_failover?sslmode=disable"

    def _create_node(self, node):
        first = node is self.nodes[0]
        if first:  # the secondary is a base backup of the primary, its configuration included
            self._initdb(node.pgdata, node.port)
        self._as_postgres(
            ["pg_autoctl", "create", "postgres", "--pgdata", node.pgdata, "--pgport", str(node.port),
             "--hostname", HOST, "--listen", HOST, "--name", node.name, "--dbname", DBNAME, "--auth", "trust",
             "--no-ssl", "--pgctl", PG_BIN / "pg_ctl", "--monitor", self.monitor_url()],
            self.dir / f"{node.name}-create.log", wait=True,
        )
        for name, value in KEEPER_SETTINGS.items():
            self._as_postgres(
                ["pg_autoctl", "config", "set", "--pgdata", node.pgdata, name, str(value)],
                self.dir / f"{node.name}-create.log", wait=True,
            )
        node.services.append(self._run_keeper(node.name, node.pgdata))

    def _start_bouncer(self, node):
        """PgBouncer in transaction mode in front of ``node`` only, trusting loopback like the nodes do."""
        directory = self.dir / f"{node.name}-pgbouncer"
        directory.mkdir()
        (directory / "users.txt").write_text('"postgres" ""\n')
        (directory / "pgbouncer.ini").write_text(
            f"""[databases]
{DBNAME} = host={HOST} port={node.port} dbname={DBNAME} connect_query='{CONNECT_QUERY}'
postgres = host={HOST} port={node.port} dbname=postgres

[pgbouncer]
listen_addr = {HOST}
listen_port = {node.bouncer_port}
unix_socket_dir =
auth_type = trust
auth_file = {directory / "users.txt"}
pool_mode = transaction
max_client_conn = 500
default_pool_size = 20
ignore_startup_parameters = extra_float_digits
server_connect_timeout = 2
server_login_retry = 1
query_wait_timeout = 30
pidfile = {directory / "pgbouncer.pid"}
admin_users = postgres
"""
        )
        shutil.chown(directory, OS_USER, OS_USER)
        service = self._run_as_postgres(f"{node.name}-pgbouncer", ["pgbouncer", directory / "pgbouncer.ini"])
        node.services.append(service)
        self._wait_port(node.bouncer_port, service)

    def _start_valkey(self):
        primary, replica = self.valkey_ports
        for port in self.valkey_ports:
            argv = ["redis-server", "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
                    "--dir", str(self.dir), "--dbfilename", f"valkey-{port}.rdb", "--daemonize", "no"]
            if port == replica:
                argv += ["--replicaof", HOST, str(primary)]
            self._start(f"valkey-{port}", argv, port)
        for port in self.sentinel_ports:
            conf = self.dir / f"sentinel-{port}.conf"  # Sentinels rewrite their file with what they learn
            conf.write_text(
                f"port {port}\nbind {HOST}\ndir {self.dir}\n"
                f"sentinel monitor {VALKEY_SERVICE} {HOST} {primary} 2\n"
                f"sentinel down-after-milliseconds {VALKEY_SERVICE} 1000\n"
                f"sentinel failover-timeout {VALKEY_SERVICE} 5000\n"
                f"sentinel parallel-syncs {VALKEY_SERVICE} 1\n"
            )
            self._start(f"sentinel-{port}", ["redis-sentinel", str(conf)], port)

    def _start(self, name, argv, port):
        log_path = self.dir / f"{name}.log"
        with open(log_path, "ab") as out:
            process = subprocess.Popen(
                argv, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        service = Service(name, process, log_path)
        self.services.append(service)
        if name.startswith("valkey-"):
            self.valkey[port] = service
        self._wait_port(port, service)

    def _wait_port(self, port, service, timeout=20):
        deadline = time.monotonic() + timeout
        while True:
            try:
                socket.create_connection((HOST, port), timeout=1).close()
                return
            except OSError:
                if not service.alive() or time.monotonic() > deadline:
                    raise RuntimeError(f"{service.name} did not listen on {port}; see {service.log}")
                time.sleep(0.05)

    def _wait_states(self, wanted, timeout):
        """Wait until each named node reports, and is assigned, one of its wanted states."""
        deadline = time.monotonic() + timeout
        while True:
            states = {name: (reported, goal) for name, _, reported, goal in self.node_states()}
            if all(states.get(name, (None, None))[0] in ok and states[name][1] in ok for name, ok in wanted.items()):
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"nodes did not reach {wanted}: {states}; see the logs in {self.dir}")
            time.sleep(0.2)

    def _wait_valkey_replica(self, timeout):
        deadline = time.monotonic() + timeout
        client = redis.Redis(host=HOST, port=self.valkey_ports[1], socket_timeout=1)
        while client.info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise RuntimeError("the Valkey replica did not sync")
            time.sleep(0.1)
        sentinel = redis.Redis(host=HOST, port=self.sentinel_ports[0], socket_timeout=1)
        while sentinel.sentinel_master(VALKEY_SERVICE)["num-other-sentinels"] < 2:
            if time.monotonic() > deadline:
                raise RuntimeError("the Sentinels did not find each other")
            time.sleep(0.1)

    # --- what the store and the benches connect to ---

    def _connect(self, port, dbname=DBNAME, **kwargs):
        return psycopg.connect(host=HOST, port=port, user="postgres", dbname=dbname, connect_timeout=2, autocommit=True,
                               **kwargs)

    def database_url(self, *, pooled=True, read_write=True, dbname=DBNAME):
        """The multi-host URL over both machines: through their PgBouncers (the store's), or to PostgreSQL itself."""
        ports = [node.bouncer_port if pooled else node.port for node in self.nodes]
        if not read_write:
            ports.reverse()
        hosts = ",".join(f"{HOST}:{port}" for port in ports)
        attrs = "read-write" if read_write else "prefer-standby"
        return f"postgres://postgres@{hosts}/{dbname}?target_session_attrs={attrs}"

    def valkey_primary_port(self):
        """The Valkey primary's port, as the first Sentinel that answers has it."""
        for port in self.sentinel_ports:
            try:
                client = redis.Redis(host=HOST, port=port, socket_timeout=1)
                return int(client.sentinel_get_master_addr_by_name(VALKEY_SERVICE)[1])
            except redis.RedisError:
                continue
        raise RuntimeError("no Sentinel answers")

    def store_env(self, valkey_db=0):
        """The store's environment for this set (the contract of issue 19)."""
        return {
            "DATABASE_URL": self.database_url(),
            "DATABASE_REPLICA_URLS": self.database_url(read_write=False),
            "DATABASE_POOLER": "pgbouncer",
            "VALKEY_URL": f"redis://{VALKEY_SERVICE}/{valkey_db}",
            "VALKEY_SENTINELS": " ".join(f"{HOST}:{port}" for port in self.sentinel_ports),
        }

    def direct_env(self, valkey_db=0):
        """For management commands and audits: PostgreSQL's primary without PgBouncer, and today's Valkey primary."""
        return {
            "DATABASE_URL": self.database_url(pooled=False),
            "VALKEY_URL": f"redis://{HOST}:{self.valkey_primary_port()}/{valkey_db}",
        }

    def seed(self, products, orders=0):
        """Migrate the store's database, seed a catalog (and orders) on the primary directly; returns the seconds."""
        env = {**os.environ, **self.direct_env(), "SECRET_KEY": os.environ.get("SECRET_KEY", "cluster-only-key")}
        for key in ("DATABASE_REPLICA_URLS", "DATABASE_POOLER", "VALKEY_SENTINELS"):
            env.pop(key, None)
        commands = [["migrate", "--noinput", "--verbosity", "0"], ["seed_catalog", "--products", str(products)]]
        if orders:
            commands.append(["seed_orders", "--orders", str(orders)])
        began = time.monotonic()
        for command in commands:
            started = time.monotonic()
            with open(self.dir / "seed.log", "ab") as out:
                subprocess.run([sys.executable, "manage.py", *command], cwd=REPO, env=env, check=True, stdout=out,
                               stderr=subprocess.STDOUT)
            log(f"{command[0]} in {time.monotonic() - started:.1f} s")
        return time.monotonic() - began

    def _promotion_hook(self):
        """A node newly writable gets its PgBouncer's server connections renewed (see the module's docstring)."""
        writable = {node.name for node in self.nodes[:1]}
        while not self.stopping.wait(0.1):
            try:
                now = {name for name, _, reported, _ in self.node_states() if reported in WRITABLE_STATES}
                for node in self.nodes:
                    if node.name in now - writable:
                        with self._connect(node.bouncer_port, "pgbouncer", prepare_threshold=None) as admin:
                            admin.execute("RECONNECT")
                        log(f"{node.name} is writable: its PgBouncer reconnects")
                writable = now
            except psycopg.Error as error:  # the monitor busy, or the PgBouncer not answering: ask again
                log(f"promotion hook: {error}")

    # --- the state of the set ---

    def node_states(self):
        """[(name, port, reported state, assigned state)] as the monitor has them."""
        with self._connect(self.monitor_port, "pg_auto_failover") as conn:
            return conn.execute(
                "SELECT nodename, nodeport, reportedstate::text, goalstate::text FROM pgautofailover.node "
                "ORDER BY nodeid"
            ).fetchall()

    def primary(self):
        """The node the monitor has as the primary (reported and assigned), or None during a failover."""
        for name, _, reported, goal in self.node_states():
            if reported in WRITABLE_STATES and goal in WRITABLE_STATES:
                return next(node for node in self.nodes if node.name == name)
        return None

    def write_probe(self, url):
        """The port a commit through ``url`` landed on, if it returned within 2 s without giving up its wait for a
        synchronous standby; else None."""
        gave_up = []
        try:
            with psycopg.connect(url, connect_timeout=2, autocommit=True) as conn:
                conn.add_notice_handler(lambda notice: gave_up.append(notice.message_primary))
                conn.execute("SET statement_timeout = 2000")
                conn.execute("CREATE TABLE IF NOT EXISTS cluster_probe (at timestamptz)")
                conn.execute("INSERT INTO cluster_probe VALUES (now())")
                return None if any("synchronous replication" in message for message in gave_up) else conn.info.port
        except psycopg.Error:
            return None

    def synchronous_standby_names(self, node):
        with self._connect(node.port, "postgres") as conn:
            return conn.execute("SHOW synchronous_standby_names").fetchone()[0]

    # --- breaking it ---

    def kill_primary(self):
        """SIGKILL the primary machine; returns its node."""
        node = self.primary()
        if node is None:
            raise RuntimeError("no primary to kill")
        return self.kill(node)

    def kill(self, node):
        """SIGKILL a machine: its keeper (which would restart PostgreSQL), PostgreSQL and PgBouncer."""
        node.killed_at = time.time()
        for service in node.services:
            kill_tree(service.process.pid)
            service.process.wait()
        log(f"killed {node.name} (PostgreSQL {node.port}, PgBouncer {node.bouncer_port})")
        return node

    def wait_for_primary(self, killed, timeout=60):
        """Seconds from ``killed``'s death until the store's URL (through the PgBouncers) commits on another node."""
        deadline = time.monotonic() + timeout
        url = self.database_url(dbname="postgres")
        while time.monotonic() < deadline and not self.stopping.is_set():
            port = self.write_probe(url)
            node = next((node for node in self.nodes if node.bouncer_port == port), None)
            if node is not None and node is not killed:
                took = time.time() - killed.killed_at
                log(f"{node.name} took over writes {took:.1f} s after the kill "
                    f"(synchronous_standby_names '{self.synchronous_standby_names(node)}')")
                return took
            time.sleep(0.1)
        raise RuntimeError(f"no new primary {timeout} s after the kill (or the set is stopping)")

    def kill_valkey_primary(self):
        """SIGKILL the Valkey primary; returns (its port, when)."""
        port = self.valkey_primary_port()
        service = self.valkey[port]
        killed_at = time.time()
        kill_tree(service.process.pid)
        service.process.wait()
        log(f"killed the Valkey primary on {port}")
        return port, killed_at

    def wait_for_valkey_primary(self, killed, killed_at, timeout=30):
        """Seconds from the kill until the Sentinels name another primary and it takes a write."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not self.stopping.is_set():
            try:
                port = self.valkey_primary_port()
                if port != killed and redis.Redis(host=HOST, port=port, socket_timeout=1).set("cluster:probe", "1"):
                    took = time.time() - killed_at
                    log(f"Valkey {port} took over {took:.1f} s after the kill")
                    return took
            except redis.RedisError:  # a replica still read-only, or a Sentinel between two minds
                pass
            time.sleep(0.1)
        raise RuntimeError(f"no new Valkey primary {timeout} s after the kill (or the set is stopping)")

    # --- tearing down ---

    def stop(self):
        """Stop every server still running (latest first: the monitor last), then remove the directory."""
        self.stopping.set()
        if self.hook.is_alive():
            self.hook.join()
        for service in reversed(self.services):
            try:
                service.stop()
            except Exception as error:  # noqa: BLE001 - the rest must still be stopped
                log(f"stopping {service.name}: {error}")
        self.services.clear()
        if self.keep:
            log(f"kept {self.dir}")
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

