import email
import email.policy

import pytest
from django.core.cache import cache

from tests.processes import free_port


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



def use_smtp(settings, port) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", port, 10
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""


@pytest.fixture
def smtp_server(settings):
    """An aiosmtpd server on loopback that keeps what it receives; Django sends to it over SMTP."""
    controller_module = pytest.importorskip("aiosmtpd.controller", reason="aiosmtpd (requirements-dev.txt) is not installed")
    received = []

    class Keep:
        async def handle_DATA(self, server, session, envelope):
            received.append((envelope.rcpt_tos, email.message_from_bytes(envelope.content, policy=email.policy.default)))
            return "250 OK"

    port = free_port()
    controller = controller_module.Controller(Keep(), hostname="127.0.0.1", port=port)
    controller.start()
    use_smtp(settings, port)
    yield received
    controller.stop()


@pytest.fixture
def smtp_down(settings):
    """Django sends over SMTP to a loopback port nothing listens on: the mail server is down."""
    use_smtp(settings, free_port())

