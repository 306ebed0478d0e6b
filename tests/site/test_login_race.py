"""The log-in and sign-up limits hold under parallel requests (real PostgreSQL connections, the real cache).

The atomic increment of a limit decides before the work is done, so requests
racing past each other cannot all see "under the limit". The checks they guard
are slowed a little, as a busy server would, so that without the counting
first every racer would be inside them at once.
"""
import threading
import time

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection
from django.test import Client

from amazon_site.accounts import services
from amazon_site.accounts.models import EmailAddress
from tests.concurrency import run_concurrently
from tests.factories import UserFactory

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL for real concurrent connections"),
]


def slowed(monkeypatch, owner, name):
    """Wraps ``owner.name`` so each call takes a moment and is recorded."""
    calls, lock = [], threading.Lock()
    original = getattr(owner, name)

    def wrapper(*args, **kwargs):
        with lock:
            calls.append(1)
        time.sleep(0.2)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, name, wrapper)
    return calls


def test_parallel_wrong_passwords_check_no_more_than_the_lock_out(settings, monkeypatch):
    settings.RATELIMIT_LOGIN_IP = "100/min"
    settings.RATELIMIT_LOGIN_FAILURES = "5/15min"
    user = UserFactory()
    checked = slowed(monkeypatch, ModelBackend, "authenticate")

    results, errors = run_concurrently(
        9, lambda i: Client().post("/accounts/login/", {"username": user.username, "password": f"guess {i}"}).status_code
    )

    assert errors == []
    assert sorted(results) == [200] * 5 + [429] * 4
    assert len(checked) == 5


def test_parallel_sign_ups_create_no_more_accounts_than_the_limit(settings, monkeypatch):
    settings.RATELIMIT_SIGNUP_IP = "5/h"
    settings.RATELIMIT_SIGNUP_ATTEMPTS_IP = "100/h"
    slowed(monkeypatch, services, "sign_up")
    password = "a much longer passphrase 9"

    results, errors = run_concurrently(
        10,
        lambda i: Client().post(
            "/accounts/signup/", {"username": f"racer{i}", "email": f"racer{i}@example.com", "password1": password, "password2": password}
        ).status_code,
    )

    assert errors == []
    assert sorted(results) == [302] * 5 + [429] * 5
    assert get_user_model().objects.filter(username__startswith="racer").count() == 5


def test_parallel_sign_ups_with_one_address_make_one_account(settings, monkeypatch):
    """Every racer's check finds the address free; the unique index on lower(email) lets one account have it."""
    settings.RATELIMIT_SIGNUP_IP = settings.RATELIMIT_SIGNUP_ATTEMPTS_IP = "100/h"
    check = services.selectors.email_taken

    def checked_then_slow(*args, **kwargs):
        taken = check(*args, **kwargs)
        time.sleep(0.3)  # the others check meanwhile, before anyone's insert commits
        return taken

    monkeypatch.setattr(services.selectors, "email_taken", checked_then_slow)
    password = "a much longer passphrase 9"

    results, errors = run_concurrently(
        5,
        lambda i: Client().post(
            "/accounts/signup/",
            {"username": f"twin{i}", "email": f"{'TWIN' if i % 2 else 'twin'}@example.com",
             "password1": password, "password2": password},
        ),
    )

    assert errors == []
    assert sorted(response.status_code for response in results) == [200] * 4 + [302]
    refused = [response for response in results if response.status_code == 200]
    assert all("An account with this e-mail address already exists." in r.content.decode() for r in refused)
    assert get_user_model().objects.filter(username__startswith="twin").count() == 1
    assert EmailAddress.objects.count() == 1
