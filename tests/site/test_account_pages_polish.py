"""Log-in, log-out and sign-up say what happened, where the shopper looks."""
import re

import pytest
from django.test import override_settings

from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def login_link(body):
    return re.search(r'<a href="([^"]*)">Log in</a>', body).group(1)


def test_logging_out_says_so_on_the_page_it_lands_on(client):
    client.force_login(UserFactory())
    response = client.post("/accounts/logout/", follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "You are logged out." in response.content.decode()


@pytest.mark.parametrize(
    ("url", "link"),
    [
        ("/cart/", "/accounts/login/?next=/cart/"),
        ("/search/?q=tea", "/accounts/login/?next=/search/%3Fq%3Dtea"),
        ("/accounts/login/?next=/cart/", "/accounts/login/?next=/cart/"),
        ("/accounts/login/", "/accounts/login/"),
        ("/accounts/signup/?next=/checkout/", "/accounts/login/?next=/checkout/"),
        ("/accounts/login/?next=https://evil.example/", "/accounts/login/"),
        ("/accounts/login/?next=/accounts/login/%3Fnext%3D/cart/", "/accounts/login/?next=/accounts/login/%3Fnext%3D/cart/"),
    ],
)
def test_the_header_log_in_link_never_nests_next(client, url, link):
    assert login_link(client.get(url).content.decode()) == link


def test_sign_up_shows_a_weak_passwords_errors_under_the_password_field(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "email": "ada@example.com", "password1": "ada", "password2": "ada"},
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "This password is too short. It must contain at least 8 characters." in form.errors["password1"]
    assert "password2" not in form.errors
    body = response.content.decode()
    field = body.index('id="id_password1"')
    error = body.index("This password is too short")
    # Right after the input, before the confirmation field.
    assert field < error < body.index('id="id_password2"')


def test_sign_up_shows_a_mismatch_under_the_confirmation(client):
    response = client.post(
        "/accounts/signup/",
        {"username": "ada", "email": "ada@example.com", "password1": PASSWORD + "x9!", "password2": "something else"},
    )
    body = response.content.decode()
    assert body.index('id="id_password2"') < body.index("The two password fields didn’t match.")


def test_the_favicon_is_linked_and_favicon_ico_leads_to_it(client):
    assert 'rel="icon" href="/static/img/favicon.svg"' in client.get("/").content.decode()
    response = client.get("/favicon.ico")
    assert response.status_code == 302 and response["Location"] == "/static/img/favicon.svg"


@override_settings(DEBUG=True)
@pytest.mark.parametrize("url", ["/no-such-page/", "/orders/no-such-order/"])
def test_a_404_in_debug_is_the_stores_page_not_djangos_technical_one(client, url):
    client.force_login(UserFactory())
    response = client.get(url)
    assert response.status_code == 404
    body = response.content.decode()
    assert "We couldn’t find that page" in body and "css/site.css" in body
    assert "Using the URLconf" not in body and "<style" not in body


@override_settings(DEBUG=True)
def test_the_apis_404_stays_json_in_debug(client):
    response = client.get("/api/no-such-endpoint/")
    assert response.status_code == 404 and response["Content-Type"] == "application/json"
