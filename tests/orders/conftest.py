import email
import email.policy
import socket

import pytest

from cart import services as cart_services
from orders import checkout as order_checkout
from tests.factories import UserFactory


@pytest.fixture
def shopper():
    """A signed-up shopper for the services: ``(user, cart_id, address)``, the cart empty, the address saved.

    The page and API test modules define a ``shopper`` of their own: a signed-in client's user.
    """
    user = UserFactory(email="shopper@example.com")
    cart = cart_services.get_or_create_cart(user=user)
    address = order_checkout.save_address(
        user=user, data={"full_name": "Ada L", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US"}
    )
    return user, cart.pk, address


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


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

