"""The served set-up (the Procfile's ``proxy`` and ``web``): nginx faces the clients, gunicorn's sync workers do not.

A sync worker is held by one connection until its request is read, so a few
clients trickling their headers used to stop the store. Here gunicorn runs as
``make serve`` runs it, behind nginx, on free ports.
"""
import http.client
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import uuid
from pathlib import Path

import pytest
import requests

from tests.processes import free_port, wait_for

REPO = Path(__file__).resolve().parents[2]

pytestmark = [
    pytest.mark.system,
    pytest.mark.skipif(not (shutil.which("nginx") or os.access("/usr/sbin/nginx", os.X_OK)),
                       reason="needs Debian's nginx (apt-get install nginx)"),
]


@pytest.fixture
def serve():
    """Start ``honcho start proxy web`` with the given settings; the public port is returned."""
    started = []

    def start(**settings):
        port = free_port()
        # Readable by nginx's workers, which run as nobody when the tests run as root.
        directory = tempfile.mkdtemp(prefix="store-nginx-")
        os.chmod(directory, 0o755)
        env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
        env.update(
            PATH=f"{REPO / '.venv' / 'bin'}:{env.get('PATH', '')}:/usr/sbin",
            DEBUG="0", SECRET_KEY="proxy-test-" + uuid.uuid4().hex * 2, ALLOWED_HOSTS="127.0.0.1",
            SECURE_SSL_REDIRECT="0", HOST="127.0.0.1", PORT=str(port), WEB_PORT=str(free_port()),
            NGINX_DIR=directory, **settings,
        )
        log = open(Path(directory) / "honcho.log", "wb")
        process = subprocess.Popen(
            [str(REPO / ".venv" / "bin" / "honcho"), "start", "-f", "Procfile", "proxy", "web"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )
        started.append((process, directory, log))

        def healthy():
            assert process.poll() is None, (Path(directory) / "honcho.log").read_text()
            try:
                return requests.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200
            except requests.RequestException:
                return False

        wait_for(healthy, 60, "nginx and gunicorn did not come up", interval=0.2)
        return port

    yield start
    for process, directory, log in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        log.close()
        shutil.rmtree(directory, ignore_errors=True)


def test_slow_clients_do_not_hold_the_workers(serve):
    workers = 2
    port = serve(WEB_CONCURRENCY=str(workers))
    stop = threading.Event()
    sent = []

    def trickle():
        # Headers one line at a time, never finished: each used to hold a sync worker.
        with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
            sock.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n")
            sent.append(1)
            while not stop.wait(0.5):
                try:
                    sock.sendall(f"X-Slow-{uuid.uuid4().hex[:8]}: 1\r\n".encode())
                except OSError:
                    return
                sent.append(1)

    slow = [threading.Thread(target=trickle, daemon=True) for _ in range(workers + 3)]
    for thread in slow:
        thread.start()
    try:
        wait_for(lambda: len(sent) >= 3 * len(slow), 10, "the slow clients did not get going")
        for _ in range(3):
            # A liveness bound, not a benchmark: a held worker would make it wait for gunicorn's timeout.
            response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
            assert response.status_code == 200
            time.sleep(0.2)
        assert all(thread.is_alive() for thread in slow)  # the slow connections are still open
    finally:
        stop.set()


def _token_post(port, source, forwarded_for):
    """A malformed body to the token endpoint (no database needed), from a given loopback address."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5, source_address=(source, 0))
    try:
        connection.request("POST", "/api/auth/token/", body="{", headers={
            "Content-Type": "application/json", "X-Forwarded-For": forwarded_for,
        })
        return connection.getresponse().status
    finally:
        connection.close()


def test_the_throttle_counts_the_client_nginx_saw_not_the_one_it_claims(serve):
    # One worker and its local-memory cache: every request meets the same counter.
    port = serve(WEB_CONCURRENCY="1", API_THROTTLE_ANON="2/min")
    attacker, neighbour = "127.0.0.2", "127.0.0.3"
    statuses = [_token_post(port, attacker, f"10.0.0.{n}") for n in range(3)]
    assert statuses == [400, 400, 429]  # a new X-Forwarded-For each time does not reset its count
    assert _token_post(port, neighbour, "10.0.0.1") == 400  # another client has its own (not nginx's address)
