"""Password reset and change are the shop's pages (not the admin's), linked from the log-in; a reset mails only a
confirmed address and answers the same for any other. The limits are tested in test_security.py."""
import re

import pytest
from django.contrib.auth import get_user_model

from amazon_site.accounts.models import EmailAddress
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET_LINK = re.compile(r"https?://[^/\s]+(/accounts/reset/[^/\s]+/[^/\s]+/)")
NEW_PASSWORD = "a fresh and long passphrase 11"


def is_the_shops_page(response) -> bool:
    html = response.content.decode()
    return 'class="site-header"' in html and "Django administration" not in html


def test_the_log_in_links_to_the_reset_and_the_reset_page_is_the_shops(client):
    assert 'href="/accounts/password_reset/"' in client.get("/accounts/login/").content.decode()
    page = client.get("/accounts/password_reset/")
    assert page.status_code == 200 and is_the_shops_page(page)
    assert "Reset your password" in page.content.decode()


def test_a_reset_from_the_mail_to_a_new_password(client, mailoutbox):
    user = UserFactory(email="ada@example.com")
    done = client.post("/accounts/password_reset/", {"email": "ADA@example.com"}, follow=True)
    assert is_the_shops_page(done) and "Check your mail" in done.content.decode()
    [mail] = mailoutbox
    assert mail.to == ["ada@example.com"] and mail.subject == "Reset your password"
    path = RESET_LINK.search(mail.body).group(1)
    [(html, mimetype)] = mail.alternatives
    assert mimetype == "text/html" and path in html

    form = client.get(path, follow=True)  # Django swaps the token for a session key, then shows the form
    assert is_the_shops_page(form) and "Choose a new password" in form.content.decode()
    complete = client.post(
        form.redirect_chain[-1][0], {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}, follow=True
    )
    assert is_the_shops_page(complete) and "Your password is changed" in complete.content.decode()
    assert client.login(username=user.username, password=NEW_PASSWORD)

    again = client.get(path, follow=True)
    assert is_the_shops_page(again) and "This link no longer works" in again.content.decode()


@pytest.mark.parametrize("address", ["nobody@example.com", "claimed@example.com"])
def test_an_unknown_or_unconfirmed_address_gets_the_same_answer_and_no_mail(client, mailoutbox, address):
    known = UserFactory(email="ada@example.com")
    EmailAddress.objects.create(user=UserFactory(email=""), email="claimed@example.com")
    answer = client.post("/accounts/password_reset/", {"email": address})
    expected = client.post("/accounts/password_reset/", {"email": known.email})
    assert (answer.status_code, answer["Location"]) == (expected.status_code, expected["Location"]) == (
        302, "/accounts/password_reset/done/"
    )
    assert [mail.to for mail in mailoutbox] == [[known.email]]


def test_the_password_change_is_the_shops_page_too(client):
    user = UserFactory()
    client.force_login(user)
    page = client.get("/accounts/password_change/")
    assert page.status_code == 200 and is_the_shops_page(page)
    done = client.post(
        "/accounts/password_change/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        follow=True,
    )
    assert is_the_shops_page(done) and "Your password is changed" in done.content.decode()
    assert get_user_model().objects.get(pk=user.pk).check_password(NEW_PASSWORD)
