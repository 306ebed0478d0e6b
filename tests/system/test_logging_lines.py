"""The development server writes each log line once, in the store's format."""
import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.processes import free_port, wait_for

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.system  # starts a server


def listening(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        return True
    except OSError:
        return False


def test_one_request_logs_each_line_once(tmp_path):
    port = free_port()
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG") if key in os.environ}
    output = tmp_path / "runserver.log"
    with output.open("wb") as sink:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=ROOT, env={**env, "DEBUG": "1", "PYTHONUNBUFFERED": "1"}, stdout=sink, stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: listening(port) or server.poll() is not None, 60, "runserver did not start")
        assert server.poll() is None, output.read_text()
        path = f"/api/no-such-thing-{uuid.uuid4().hex}/"  # the API's 404: a warning and an access line, no database
        assert requests.get(f"http://127.0.0.1:{port}{path}", timeout=10).status_code == 404
        wait_for(lambda: f"GET {path}" in output.read_text(), 10, "no access line")
    finally:
        server.terminate()
        server.wait(timeout=10)
    lines = output.read_text().splitlines()
    assert len([line for line in lines if f"Not Found: {path}" in line]) == 1, lines
    assert len([line for line in lines if f"GET {path}" in line]) == 1, lines
