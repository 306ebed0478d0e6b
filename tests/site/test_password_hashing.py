"""The one test that runs the production password hashers (the suite uses MD5 for speed)."""
from django.conf import global_settings
from django.contrib.auth import authenticate

from tests.factories import PASSWORD, UserFactory


def test_production_hashers_store_pbkdf2_and_check_the_password(db, settings):
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS
    user = UserFactory()
    user.refresh_from_db()
    assert user.password.startswith("pbkdf2_sha256$")
    assert authenticate(username=user.username, password=PASSWORD) == user
    assert authenticate(username=user.username, password=PASSWORD + "!") is None
