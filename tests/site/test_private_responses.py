"""Signed-in pages, and the cart and checkout for anyone, are never stored by a shared cache or the browser."""
import pytest
from rest_framework.authtoken.models import Token

from cart import services as cart_services
from tests.factories import OrderFactory, UserFactory, stocked_product

pytestmark = pytest.mark.django_db


def directives(response) -> set[str]:
    return {part.strip() for part in response.get("Cache-Control", "").split(",") if part.strip()}


def private(response) -> bool:
    return {"private", "no-store"} <= directives(response)


def test_every_page_a_signed_in_shopper_sees_is_private(client):
    user = UserFactory()
    order = OrderFactory(user=user)
    product = stocked_product(3)
    cart_services.add_to_cart(cart_services.get_or_create_cart(user=user).pk, product.pk, 1)
    client.force_login(user)
    for path in ("/", product.get_absolute_url(), "/cart/", "/checkout/", "/orders/", f"/orders/{order.number}/",
                 "/accounts/password_change/", "/api/cart/", "/api/orders/"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert private(response), (path, response.get("Cache-Control"))


def test_a_token_clients_answers_are_private(client):
    token = Token.objects.create(user=UserFactory()).key
    response = client.get("/api/orders/", HTTP_AUTHORIZATION=f"Token {token}")
    assert response.status_code == 200
    assert private(response)


def test_a_visitors_cart_is_private_but_the_catalog_stays_cacheable(client):
    product = stocked_product(3)
    client.post("/cart/add/", {"product": product.pk, "quantity": 1})
    for path in ("/cart/", "/api/cart/"):
        response = client.get(path)
        assert response.status_code == 200
        assert private(response), path
    for path in ("/", product.get_absolute_url(), "/api/products/"):
        response = client.get(path)
        assert response.status_code == 200
        assert not directives(response) & {"private", "no-store"}, path


def test_a_drawn_product_picture_stays_cacheable_for_a_signed_in_shopper(client):
    product = stocked_product(3)
    client.force_login(UserFactory())
    response = client.get(f"/p/{product.pk}/image.svg")
    assert response.status_code == 200 and "public" in directives(response)
    assert not directives(response) & {"private", "no-store"}
