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
        user=user, data={"full_name": "Ada L", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"}
    )
    return user, cart.pk, address
