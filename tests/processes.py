"""What tests that start servers and processes share: a free port, polling instead of sleeping, the test database's URL."""
import socket
import time
from urllib.parse import quote

from django.db import connection


def free_port() -> int:
    """A loopback port nothing listens on (a server may take it, or a test may point at it as a dead one)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, timeout, message, *, interval=0.02):
    """Poll ``condition`` until it returns something truthy, and return that; fail with ``message`` at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, message
        time.sleep(interval)


def database_url() -> str:
    """The test database (pytest-django's test_ name) as a URL for a child process."""
    db = connection.settings_dict
    auth = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
