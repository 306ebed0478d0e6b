"""API authentication, throttling and the one error body."""
import pytest
from rest_framework.test import APIClient

from tests.factories import PASSWORD, OrderFactory, UserFactory, stocked_product

pytestmark = pytest.mark.django_db


def obtain_token(user):
    response = APIClient().post("/api/auth/token/", {"username": user.username, "password": PASSWORD}, format="json")
    assert response.status_code == 200
    return response.json()["token"]


def with_token(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def test_a_token_from_the_password_sees_only_its_own_orders_and_cart():
    mine, theirs = OrderFactory(), OrderFactory()
    token = obtain_token(mine.user)
    client = with_token(token)
    product = stocked_product(5)
    other = with_token(obtain_token(theirs.user))
    other.post("/api/cart/lines/", {"product": product.pk, "quantity": 1}, format="json")

    assert [order["number"] for order in client.get("/api/orders/").json()["results"]] == [mine.number]
    assert client.get(f"/api/orders/{mine.number}/").status_code == 200
    assert client.get(f"/api/orders/{theirs.number}/").json() == {"detail": "No such order."}
    assert client.get("/api/cart/").json()["lines"] == []
    assert obtain_token(mine.user) == token  # one token per account


def test_a_wrong_password_or_token_is_refused_in_the_error_shape():
    user = UserFactory()

    wrong = APIClient().post("/api/auth/token/", {"username": user.username, "password": "guess"}, format="json")
    assert wrong.status_code == 400
    assert wrong.json() == {
        "detail": "Unable to log in with provided credentials.",
        "errors": {"non_field_errors": ["Unable to log in with provided credentials."]},
    }
    assert with_token("0" * 40).get("/api/products/").json() == {"detail": "Invalid token."}
    assert APIClient().get("/api/orders/").json() == {"detail": "Authentication credentials were not provided."}


def test_other_errors_share_the_shape(client):
    not_allowed = client.delete("/api/products/")
    assert not_allowed.status_code == 405 and not_allowed.json() == {"detail": 'Method "DELETE" not allowed.'}
    for path in ("/api/nothing-here/", "/api/orders/not-a-number/", "/api/staff/orders/100-1-1/teleport/"):
        missing = client.get(path)
        assert missing.status_code == 404 and missing.json() == {"detail": "Not found."}


@pytest.fixture
def tight_rates(settings):
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {"anon": "2/min", "user": "3/min"}}


def test_anonymous_clients_are_throttled_per_address(client, tight_rates):
    assert [client.get("/api/products/").status_code for _ in range(2)] == [200, 200]

    throttled = client.get("/api/cart/")
    assert throttled.status_code == 429
    assert throttled.json()["detail"].startswith("Request was throttled.") and set(throttled.json()) == {"detail"}
    assert 0 < int(throttled["Retry-After"]) <= 60


def test_signed_in_clients_are_throttled_per_account(client, tight_rates):
    user = UserFactory()
    client.force_login(user)
    assert [client.get("/api/orders/").status_code for _ in range(3)] == [200, 200, 200]
    assert client.get("/api/products/").status_code == 429
    assert with_token(obtain_token(user)).get("/api/cart/").status_code == 429  # the same account
    assert APIClient().get("/api/products/").status_code == 200  # anonymous: its own budget
