"""What tests that start servers and processes share: a free port, and polling instead of sleeping."""
import socket
import time


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
