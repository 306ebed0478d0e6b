"""Sessions kept in the cache alone while the database cannot write them (amazon_site/core/sessions.py)."""
import logging

import pytest
from django.contrib.sessions.backends.base import UpdateError
from django.contrib.sessions.models import Session
from django.db import OperationalError
from django.test import Client

from amazon_site.core.sessions import SessionStore
from tests.factories import InventoryFactory, ProductFactory

pytestmark = [pytest.mark.system, pytest.mark.django_db]


@pytest.fixture
def store(settings):
    settings.SESSION_ENGINE = "amazon_site.core.sessions"
    return settings


@pytest.fixture
def writes_fail(monkeypatch):
    """Call it to make every write of a session row fail as a lost connection does."""

    def lost(*args, **kwargs):
        raise OperationalError("server closed the connection unexpectedly")

    return lambda: monkeypatch.setattr(Session, "save", lost)


def test_a_product_page_answers_200_when_the_session_write_fails(store, writes_fail, caplog):
    """Browse pages change no session today; SESSION_SAVE_EVERY_REQUEST makes this one write it."""
    product = ProductFactory(title="Garden hose")
    InventoryFactory(product=product, quantity=5)
    shopper = Client(raise_request_exception=False)
    assert shopper.post("/cart/add/", {"product": product.pk, "quantity": 1}).status_code == 302
    key = shopper.cookies["sessionid"].value
    store.SESSION_SAVE_EVERY_REQUEST = True
    writes_fail()

    with caplog.at_level(logging.WARNING, logger="amazon_site.core.sessions"):
        response = shopper.get(product.get_absolute_url())

    assert response.status_code == 200
    assert "session kept in the cache only" in caplog.text
    assert shopper.cookies["sessionid"].value == key
    assert SessionStore(key).load()["cart_id"]


def test_djangos_cached_db_store_fails_the_same_page(store, writes_fail):
    """What the store is for: with Django's own, the page is lost to the session write."""
    store.SESSION_ENGINE = "django.contrib.sessions.backends.cached_db"  # read when the client's first request is made
    product = ProductFactory(title="Garden hose")
    InventoryFactory(product=product, quantity=5)
    shopper = Client(raise_request_exception=False)
    assert shopper.post("/cart/add/", {"product": product.pk, "quantity": 1}).status_code == 302
    store.SESSION_SAVE_EVERY_REQUEST = True
    writes_fail()

    # Django takes the failed update for a session deleted meanwhile (SessionInterrupted).
    assert shopper.get(product.get_absolute_url()).status_code == 400


def test_a_changed_session_is_kept_in_the_cache_and_written_once_the_database_is_back(store, writes_fail, monkeypatch):
    session = SessionStore()
    session["step"] = 1
    session.save()
    writes_fail()

    session["step"] = 2
    session.save()
    assert SessionStore(session.session_key).load() == {"step": 2}
    assert Session.objects.get(pk=session.session_key).get_decoded() == {"step": 1}

    monkeypatch.undo()
    session["step"] = 3
    session.save()
    assert Session.objects.get(pk=session.session_key).get_decoded() == {"step": 3}


@pytest.mark.parametrize("failing", ["writes_fail", "outage"])
def test_a_session_begun_during_the_outage_gets_its_row_once_the_database_is_back(store, failing, request, monkeypatch):
    """Its row's insert fails, or already the check that its new key is free."""
    fail = request.getfixturevalue(failing)
    (fail if failing == "writes_fail" else fail.start)()
    session = SessionStore()
    session["cart_id"] = 7
    session.save()
    assert session.session_key
    assert SessionStore(session.session_key).load() == {"cart_id": 7}

    (monkeypatch.undo if failing == "writes_fail" else fail.end)()
    assert not Session.objects.filter(pk=session.session_key).exists()
    session["cart_id"] = 8
    session.save()  # an update of a row that is not there: inserted, not refused as a deleted session
    assert Session.objects.get(pk=session.session_key).get_decoded() == {"cart_id": 8}


def test_a_session_deleted_elsewhere_is_still_refused(store):
    session = SessionStore()
    session["cart_id"] = 7
    session.save()
    SessionStore(session.session_key).delete()

    session["cart_id"] = 8
    with pytest.raises(UpdateError):
        session.save()


def test_other_errors_are_raised(store, monkeypatch):
    def bug(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(Session, "save", bug)
    session = SessionStore()
    session["cart_id"] = 7
    with pytest.raises(RuntimeError):
        session.save()
