"""Sign-up asks for an e-mail address, unique case-insensitively, confirmed by a signed link before order mail goes there;
log-in takes the username or the address, under one lock-out."""
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import signing
from django.db import IntegrityError, transaction

from amazon_site.accounts import confirmation, services
from amazon_site.accounts.errors import AccountError
from amazon_site.accounts.models import EmailAddress
from orders import emails as order_emails
from tests.factories import PASSWORD, OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

LINK = re.compile(r"https?://[^/\s]+(/accounts/email/confirm/[^/\s]+/)")


def sign_up(client, username="ada", email="Ada@Example.com", **extra):
    return client.post(
        "/accounts/signup/",
        {"username": username, "email": email, "password1": PASSWORD, "password2": PASSWORD, **extra},
    )


@pytest.fixture
def signed_up(client, mailoutbox, django_capture_on_commit_callbacks):
    """Ada signed up (and is signed in); her confirmation mail is the last in the outbox."""
    with django_capture_on_commit_callbacks(execute=True):
        assert sign_up(client).status_code == 302
    return get_user_model().objects.get(username="ada")


def confirmation_path(mail) -> str:
    return LINK.search(mail.body).group(1)


def test_sign_up_needs_an_address(client):
    response = client.post("/accounts/signup/", {"username": "ada", "password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 200
    assert "This field is required." in response.content.decode()
    assert not get_user_model().objects.filter(username="ada").exists()


@pytest.mark.parametrize("taken_by", ["claim", "legacy account"])
def test_an_address_is_taken_whatever_its_case(client, taken_by):
    other = UserFactory(email="" if taken_by == "claim" else "ada@example.com")
    if taken_by == "claim":
        EmailAddress.objects.create(user=other, email="ada@example.com")
    response = sign_up(client, email="ADA@example.COM")
    assert response.status_code == 200
    assert "An account with this e-mail address already exists." in response.content.decode()
    assert not get_user_model().objects.filter(username="ada").exists()


def test_the_database_refuses_one_address_twice_in_any_case():
    EmailAddress.objects.create(user=UserFactory(), email="ada@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        EmailAddress.objects.create(user=UserFactory(), email="Ada@Example.COM")


def test_the_service_reports_an_address_taken_in_a_race(monkeypatch):
    """The form's check passed for both; the unique index decides, and the loser gets the form's message."""
    EmailAddress.objects.create(user=UserFactory(), email="ada@example.com")
    monkeypatch.setattr(services.selectors, "email_taken", lambda *args, **kwargs: False)
    with pytest.raises(AccountError, match="already exists"):
        services.sign_up(username="ada", password=PASSWORD, email="ADA@example.com", base_url="http://testserver/")
    assert not get_user_model().objects.filter(username="ada").exists()  # the account went with its claim


def test_a_username_cannot_look_like_an_address(client):
    response = sign_up(client, username="ada@home")
    assert "A username cannot contain “@”" in response.content.decode()


def test_sign_up_mails_a_link_and_the_address_waits_for_it(client, signed_up, mailoutbox):
    [mail] = mailoutbox
    assert mail.to == ["Ada@Example.com"] and mail.subject == "Confirm your e-mail address"
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html" and confirmation_path(mail) in html
    assert signed_up.email == ""  # no order mail goes there yet
    assert EmailAddress.objects.get(user=signed_up).confirmed_at is None


def test_the_link_shows_a_button_and_its_post_confirms(client, signed_up, mailoutbox):
    path = confirmation_path(mailoutbox[0])
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my address" in page.content.decode()
    signed_up.refresh_from_db()
    assert signed_up.email == ""  # a GET (a mail scanner's) confirms nothing

    response = client.post(path, follow=True)
    assert "Ada@Example.com is confirmed" in response.content.decode()
    signed_up.refresh_from_db()
    assert signed_up.email == "Ada@Example.com"
    assert EmailAddress.objects.get(user=signed_up).confirmed_at is not None
    assert client.post(path).status_code == 302  # a second click changes nothing and is no error


def test_the_link_works_signed_out_in_another_browser(signed_up, mailoutbox):
    from django.test import Client

    assert Client().post(confirmation_path(mailoutbox[0])).status_code == 302
    signed_up.refresh_from_db()
    assert signed_up.email == "Ada@Example.com"


def test_an_expired_link_says_so(client, signed_up, mailoutbox, monkeypatch, settings):
    path = confirmation_path(mailoutbox[0])
    later = signing.time.time() + settings.EMAIL_CONFIRMATION_DAYS * 86400 + 1
    monkeypatch.setattr(signing.time, "time", lambda: later)
    for method in (client.get, client.post):
        response = method(path)
        assert response.status_code == 400
        assert "This confirmation link has expired" in response.content.decode()
    signed_up.refresh_from_db()
    assert signed_up.email == ""


@pytest.mark.parametrize("token", ["garbage", "eyJpZCI6MX0:1a2b3c:forged", "%00"])
def test_a_garbled_or_forged_link_is_a_clear_400(client, token):
    response = client.post(f"/accounts/email/confirm/{token}/")
    assert response.status_code == 400
    assert "This confirmation link is not valid" in response.content.decode()


def test_a_link_for_a_replaced_claim_no_longer_works(client, signed_up, mailoutbox):
    old = confirmation_path(mailoutbox[0])
    services.claim(user=signed_up, email="ada@elsewhere.example", base_url="http://testserver/")
    assert client.post(old).status_code == 400
    signed_up.refresh_from_db()
    assert signed_up.email == ""


def test_a_new_address_replaces_the_old_only_once_confirmed(django_capture_on_commit_callbacks, mailoutbox):
    user = UserFactory(email="old@example.com")
    with django_capture_on_commit_callbacks(execute=True):
        address = services.claim(user=user, email="new@example.com", base_url="http://testserver/")
    assert mailoutbox[-1].to == ["new@example.com"]
    user.refresh_from_db()
    assert user.email == "old@example.com"
    services.confirm(confirmation.make_token(address))
    user.refresh_from_db()
    assert user.email == "new@example.com"
    assert list(EmailAddress.objects.filter(user=user).values_list("email", flat=True)) == ["new@example.com"]


def test_an_unconfirmed_claim_past_its_link_can_be_taken_over(monkeypatch, settings):
    squatter = UserFactory(email="")
    EmailAddress.objects.create(user=squatter, email="ada@example.com")
    with pytest.raises(AccountError):  # still fresh: taken
        services.sign_up(username="ada", password=PASSWORD, email="ada@example.com", base_url="http://testserver/")

    EmailAddress.objects.update(created_at=EmailAddress.objects.get().created_at.replace(year=2000))
    user = services.sign_up(username="ada", password=PASSWORD, email="ada@example.com", base_url="http://testserver/")
    assert EmailAddress.objects.get().user == user


def test_order_mail_goes_only_to_a_confirmed_address(client, signed_up, mailoutbox):
    order = OrderFactory(user=signed_up)
    mailoutbox.clear()
    order_emails.send_order_confirmation(order.pk)
    assert mailoutbox == []  # claimed, not confirmed

    client.post(confirmation_path_of(signed_up))
    order_emails.send_order_confirmation(order.pk)
    assert [mail.to for mail in mailoutbox] == [["Ada@Example.com"]]


def confirmation_path_of(user) -> str:
    from django.urls import reverse

    return reverse("email-confirm", args=[confirmation.make_token(EmailAddress.objects.get(user=user))])


def log_in(client, username, password=PASSWORD):
    return client.post("/accounts/login/", {"username": username, "password": password})


@pytest.mark.parametrize("identifier", ["ada", "ada@example.com", "ADA@Example.com"])
def test_log_in_by_username_or_address(client, identifier):
    user = UserFactory(username="ada", email="")
    EmailAddress.objects.create(user=user, email="ada@example.com")
    assert log_in(client, identifier).status_code == 302
    assert client.get("/").context["user"] == user


def test_accounts_from_before_addresses_were_claimed_log_in_both_ways(client):
    user = UserFactory(username="old", email="old@example.com")
    assert log_in(client, "old@example.com").status_code == 302
    client.logout()
    assert log_in(client, "old").status_code == 302
    UserFactory(username="noaddress", email="")
    client.logout()
    assert log_in(client, "noaddress").status_code == 302
    assert user.email_addresses.count() == 0


def test_the_username_and_the_address_share_one_lock_out(client, settings):
    settings.RATELIMIT_LOGIN_IP = "100/min"
    settings.RATELIMIT_LOGIN_FAILURES = "3/15min"
    user = UserFactory(username="ada", email="")
    EmailAddress.objects.create(user=user, email="ada@example.com")
    for identifier in ("ada", "ADA@example.com", "ada"):
        assert log_in(client, identifier, "wrong").status_code == 200
    for identifier in ("ada@example.com", "ada"):
        refused = log_in(client, identifier)  # the right password, refused unchecked
        assert refused.status_code == 429
        assert "locked" in refused.content.decode()


def test_the_api_token_takes_the_address_too(client):
    user = UserFactory(username="ada", email="")
    EmailAddress.objects.create(user=user, email="ada@example.com")
    response = client.post("/api/auth/token/", {"username": "Ada@Example.com", "password": PASSWORD})
    assert response.status_code == 200 and response.json()["token"]


def test_the_log_in_page_says_username_or_e_mail(client):
    assert "Username or e-mail" in client.get("/accounts/login/").content.decode()


def test_staff_see_the_claims_read_only(admin_client):
    claim = EmailAddress.objects.create(user=UserFactory(username="ada", email=""), email="ada@example.com")
    listing = admin_client.get("/admin/accounts/emailaddress/?q=ada")
    assert listing.status_code == 200 and "ada@example.com" in listing.content.decode()
    page = admin_client.get(f"/admin/accounts/emailaddress/{claim.pk}/change/")
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()
    assert admin_client.get("/admin/accounts/emailaddress/add/").status_code == 403
