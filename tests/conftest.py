import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: the database is rolled back between
    tests, so anything cached from an earlier test would describe rows that no
    longer exist."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def small_pages(settings):
    settings.CATALOG_PAGE_SIZE = 2
    settings.CATALOG_MAX_PAGES = 3
    return settings


@pytest.fixture
def smtp_server(settings):
    """An aiosmtpd server on loopback that keeps what it receives, as (recipients, message); Django sends to it."""
    import email
    import email.policy
    import socket

    controller_module = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (requirements-dev.txt) is not installed")
    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
            return "250 OK"

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    controller = controller_module.Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield received
    controller.stop()
