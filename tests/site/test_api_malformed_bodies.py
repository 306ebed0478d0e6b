"""Every JSON endpoint answers a malformed body with a 400 in the API's error shape, and changes nothing."""
import pytest
from django.contrib.auth.models import Permission
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cart import services as cart_services
from cart.models import CartLine
from orders.models import Order, Status
from tests.factories import OrderFactory, UserFactory, stocked_product

pytestmark = pytest.mark.django_db

DEEP = "[" * 50_000  # Python's decoder recurses per level: this was a RecursionError (a 500)
BODIES = {"deeply nested": DEEP, "cut short": '{"quantity": ', "not JSON": "quantity=2"}


@pytest.fixture
def world():
    staff = UserFactory(is_staff=True)
    staff.user_permissions.add(Permission.objects.get(codename="change_order"))  # may move orders
    cart_id = cart_services.get_or_create_cart(user=staff).pk
    product = stocked_product(5)
    cart_services.add_to_cart(cart_id, product.pk, 1)
    line = CartLine.objects.get(cart_id=cart_id)
    order = OrderFactory(user=staff, status=Status.PACKED)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=staff).key}")
    return client, line, order


ENDPOINTS = {
    "token": ("post", lambda line, order: "/api/auth/token/"),
    "add to cart": ("post", lambda line, order: "/api/cart/lines/"),
    "add a bundle": ("post", lambda line, order: "/api/cart/bundle/"),
    "change a line": ("patch", lambda line, order: f"/api/cart/lines/{line.pk}/"),
    "checkout": ("post", lambda line, order: "/api/checkout/"),
    "ship": ("post", lambda line, order: f"/api/staff/orders/{order.number}/ship/"),
    "return": ("post", lambda line, order: f"/api/staff/orders/{order.number}/return/"),
}


@pytest.mark.parametrize("body", BODIES.values(), ids=BODIES.keys())
@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=ENDPOINTS.keys())
def test_a_malformed_json_body_is_a_400_that_changes_nothing(world, endpoint, body):
    client, line, order = world
    method, url = endpoint
    response = getattr(client, method)(
        url(line, order), body, content_type="application/json", HTTP_IDEMPOTENCY_KEY="7f0c3b8e-1d7a-4b8e-9a51-3c2f8f0b7a10"
    )
    assert response.status_code == 400, response.content[:200]
    assert response.json()["detail"].startswith("JSON parse error")
    assert CartLine.objects.get(pk=line.pk).quantity == 1
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    assert Order.objects.count() == 1
