"""The "Your account" page: name, e-mail change (the old address stays until the new one is confirmed), the
password link, the API token (shown, revoked), and the links to the address book and the orders."""
import re

import pytest
from django.contrib.auth import get_user_model
from rest_framework.authtoken.models import Token

from amazon_site.accounts.models import EmailAddress
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/email/confirm/[^/\s]+/)")


@pytest.fixture
def shopper(client):
    user = UserFactory(username="ada", email="ada@example.com")
    client.force_login(user)
    return user


def test_the_header_links_to_the_account_and_the_page_links_on(client, shopper):
    assert 'href="/account/"' in client.get("/").content.decode()
    page = client.get("/account/")
    html = page.content.decode()
    assert page.status_code == 200
    for href in ("/accounts/password_change/", "/account/addresses/", "/orders/"):
        assert f'href="{href}"' in html
    assert "ada@example.com" in html and "(confirmed)" in html


def test_signed_out_the_page_asks_for_a_log_in(client):
    response = client.get("/account/")
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_name_is_saved(client, shopper):
    assert client.post("/account/name/", {"first_name": " Ada ", "last_name": "Lovelace"}).status_code == 302
    shopper.refresh_from_db()
    assert (shopper.first_name, shopper.last_name) == ("Ada", "Lovelace")


def test_a_too_long_name_is_a_form_error(client, shopper):
    response = client.post("/account/name/", {"first_name": "A" * 151, "last_name": ""})
    assert response.status_code == 400 and "errorlist" in response.content.decode()


def test_changing_the_address_keeps_the_old_until_the_new_is_confirmed(
    client, shopper, mailoutbox, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/account/email/", {"email": "ada@new.example"}, follow=True)
    assert "We sent a link to ada@new.example" in response.content.decode()
    assert "Waiting for confirmation: <strong>ada@new.example</strong>" in response.content.decode()
    [mail] = mailoutbox
    assert mail.to == ["ada@new.example"]
    shopper.refresh_from_db()
    assert shopper.email == "ada@example.com"

    client.post(LINK.search(mail.body).group(1))
    shopper.refresh_from_db()
    assert shopper.email == "ada@new.example"
    assert "Waiting for confirmation" not in client.get("/account/").content.decode()


@pytest.mark.parametrize(
    "email, message",
    [("ADA@example.com", "That is already your confirmed address."),
     ("taken@example.com", "An account with this e-mail address already exists."),
     ("not an address", "Enter a valid email address.")],
)
def test_an_address_that_cannot_be_taken_is_a_form_error(client, shopper, mailoutbox, email, message):
    UserFactory(email="taken@example.com")
    response = client.post("/account/email/", {"email": email})
    assert response.status_code == 400 and message in response.content.decode()
    assert mailoutbox == [] and not EmailAddress.objects.filter(user=shopper).exists()


def test_address_changes_are_limited_per_account(client, shopper, settings):
    settings.RATELIMIT_EMAIL_CHANGE_USER = "2/h"
    for n in range(2):
        assert client.post("/account/email/", {"email": f"ada{n}@new.example"}).status_code == 302
    refused = client.post("/account/email/", {"email": "ada9@new.example"})
    assert refused.status_code == 429
    assert "Too many changes of address for this account" in refused.content.decode()
    assert list(EmailAddress.objects.filter(user=shopper).values_list("email", flat=True)) == ["ada1@new.example"]


def test_the_token_is_shown_and_revoked(client, shopper):
    assert "You have no API token" in client.get("/account/").content.decode()
    token = Token.objects.create(user=shopper)
    assert token.key in client.get("/account/").content.decode()
    response = client.post("/account/token/revoke/", follow=True)
    assert "Your API token is revoked" in response.content.decode()
    assert not Token.objects.filter(user=shopper).exists()
    assert get_user_model().objects.filter(pk=shopper.pk).exists()
