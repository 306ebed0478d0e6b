"""API authentication, throttling and the one error body; tokens end with their password, or when revoked."""
import getpass
import io
import re

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import Client
from rest_framework.authtoken.models import Token
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


def refused(token):
    return with_token(token).get("/api/orders/").json() == {"detail": "Invalid token."}


def test_a_shopper_revokes_their_own_token():
    user, other = UserFactory(), UserFactory()
    token, others = obtain_token(user), obtain_token(other)
    assert APIClient().delete("/api/auth/token/").status_code == 403  # nobody's token, without signing in

    revoked = with_token(token).delete("/api/auth/token/")
    assert revoked.status_code == 204 and not revoked.content
    assert refused(token) and not Token.objects.filter(user=user).exists()
    assert not refused(others)
    assert obtain_token(user) != token  # the password gives a new one


NEW_PASSWORD = "a brand new passphrase 7"


def by_the_page(user):
    client = Client()
    client.force_login(user)
    changed = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302


def by_a_reset(user):
    client = Client()
    assert client.post("/accounts/password_reset/", {"email": user.email}).status_code == 302
    link = re.search(r"https?://[^/\s]+(/accounts/reset/\S+/)", mail.outbox[-1].body).group(1)
    form = client.get(link, follow=True)
    set_password = form.redirect_chain[-1][0]
    assert client.post(set_password, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code == 302


def by_the_admin(user):
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    changed = client.post(
        f"/admin/auth/user/{user.pk}/password/", {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD}
    )
    assert changed.status_code == 302, changed.content[:500]


def by_the_command(user, monkeypatch):
    monkeypatch.setattr(getpass, "getpass", lambda *args, **kwargs: NEW_PASSWORD)
    call_command("changepassword", user.username, stdout=io.StringIO())


def in_code(user):
    user.set_password(NEW_PASSWORD)
    user.save()


@pytest.mark.parametrize("change", [by_the_page, by_a_reset, by_the_admin, by_the_command, in_code])
def test_a_password_change_by_any_route_ends_the_token(change, monkeypatch, mailoutbox):
    user = UserFactory()
    token = obtain_token(user)
    if change is by_the_command:
        change(user, monkeypatch)
    else:
        change(user)
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert refused(token)


def test_saves_that_keep_the_password_keep_the_token(client, settings):
    user = UserFactory()
    token = obtain_token(user)
    user.email = "new@example.com"
    user.save()
    assert client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    # A hasher upgrade at log-in re-hashes the same password: not a change.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.ScryptPasswordHasher", *settings.PASSWORD_HASHERS]
    assert Client().post("/accounts/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    user.refresh_from_db()
    assert user.password.startswith("scrypt$")
    assert not refused(token)
