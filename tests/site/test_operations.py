"""Production-mode plumbing: probes, request ids, JSON logs, metrics, statement timeout."""
import json
import logging
import uuid

import pytest
from django.db import OperationalError, connection, connections
from prometheus_client import REGISTRY

from amazon_site.core import health
from amazon_site.core.logging import JsonFormatter, RequestIdFilter, request_id_var
from cart import services as cart_services
from orders import checkout
from orders.payments import Card, TestGateway
from orders.selectors import checkout_summary
from tests.factories import UserFactory, stocked_product
from tests.outages import DEAD_VALKEY

pytestmark = pytest.mark.django_db


# --- probes ---


def test_healthz_answers_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_reports_each_service_and_is_ready_with_the_database(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    checks = response.json()["checks"]
    assert checks["database"]["status"] == "ok"
    assert checks["cache"]["status"] == "ok"
    assert set(checks) == {"database", "cache", "search", "broker"}


def test_readyz_stays_ready_with_a_dead_cache(client, settings):
    settings.CACHES = DEAD_VALKEY
    response = health.readyz(_get("/readyz"))
    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["checks"]["cache"]["status"] == "degraded"
    assert body["status"] == "degraded"


def test_readyz_fails_without_the_database(client, monkeypatch):
    def broken():
        raise OperationalError("connection refused")

    monkeypatch.setattr(health, "check_database", broken)
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json()["checks"]["database"]["status"] == "down"


def test_readyz_reports_a_dead_broker_and_search_as_degraded_within_the_timeout(monkeypatch, settings):
    settings.CELERY_BROKER_URL = "amqp://guest:guest@127.0.0.1:1//"
    settings.CELERY_TASK_ALWAYS_EAGER = False
    monkeypatch.setattr(health, "check_search", lambda: {"status": "degraded"})
    response = health.readyz(_get("/readyz"))
    body = json.loads(response.content)
    assert response.status_code == 200
    assert body["checks"]["broker"]["status"] == "degraded"
    assert body["checks"]["broker"]["ms"] < 1500


def _get(path):
    from django.test import RequestFactory

    return RequestFactory().get(path)


@pytest.fixture
def production_access(settings):
    """What DEBUG off gives: no public metrics; a token only if the operator sets one."""
    settings.METRICS_PUBLIC = False
    settings.METRICS_TOKEN = ""
    return settings


def test_readyz_tells_a_stranger_only_the_overall_status(client, production_access):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_readyz_shows_its_checks_with_the_token(client, production_access):
    production_access.METRICS_TOKEN = "s3cret"
    assert client.get("/readyz", HTTP_AUTHORIZATION="Bearer wrong").json() == {"status": "ok"}
    checks = client.get("/readyz", HTTP_AUTHORIZATION="Bearer s3cret").json()["checks"]
    assert set(checks) == {"database", "cache", "search", "broker"}


def test_readyz_without_the_database_still_fails_for_a_stranger(client, production_access, monkeypatch):
    monkeypatch.setattr(health, "check_database", lambda: (_ for _ in ()).throw(OperationalError("down")))
    response = client.get("/readyz")
    assert response.status_code == 503
    assert response.json() == {"status": "down"}


# --- request ids and logs ---


def test_every_response_has_a_request_id(client):
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and first != second


def test_a_sane_incoming_request_id_is_echoed(client):
    assert client.get("/healthz", HTTP_X_REQUEST_ID="lb-1234.abc_Z")["X-Request-ID"] == "lb-1234.abc_Z"


@pytest.mark.parametrize("bad", ["x" * 65, "has space", "inject\r\nSet-Cookie:a=b".replace("\r\n", ""), "semi;colon"])
def test_an_odd_incoming_request_id_is_replaced(client, bad):
    given = client.get("/healthz", HTTP_X_REQUEST_ID=bad)["X-Request-ID"]
    assert given != bad and len(given) == 32


def test_log_records_during_a_request_carry_its_id(client, monkeypatch):
    seen = []

    class Capture(logging.Handler):
        def emit(self, record):
            seen.append(record)

    handler = Capture()
    handler.addFilter(RequestIdFilter())
    loggers = [logging.getLogger("amazon_site.core.health"), logging.getLogger("django.request")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        monkeypatch.setattr(health, "check_database", lambda: (_ for _ in ()).throw(OperationalError("down")))
        response = client.get("/readyz", HTTP_X_REQUEST_ID="req-42")
    finally:
        for logger in loggers:
            logger.removeHandler(handler)
    assert response["X-Request-ID"] == "req-42"
    # Django logs the 503 after the middleware has returned: it still carries the id.
    assert [r.request_id for r in seen if r.name == "django.request"] == ["req-42"]
    database_records = [r for r in seen if "check of the database" in r.getMessage()]
    assert database_records and database_records[0].request_id == "req-42"
    assert request_id_var.get() == "-"  # reset after the request


def test_the_json_formatter_writes_one_object_per_line():
    token = request_id_var.set("abc123")
    try:
        try:
            raise ValueError("boom")
        except ValueError:
            record = logging.getLogger("store.test").makeRecord(
                "store.test", logging.ERROR, __file__, 1, "failed %s", ("twice",), exc_info=__import__("sys").exc_info()
            )
        RequestIdFilter().filter(record)
        line = JsonFormatter().format(record)
    finally:
        request_id_var.reset(token)
    assert "\n" not in line
    entry = json.loads(line)
    assert entry["level"] == "ERROR"
    assert entry["logger"] == "store.test"
    assert entry["message"] == "failed twice"
    assert entry["request_id"] == "abc123"
    assert entry["time"].endswith("+00:00")
    assert "ValueError: boom" in entry["exception"]


# --- metrics ---


def test_metrics_are_served_with_the_business_metrics(client):
    response = client.get("/metrics")
    assert response.status_code == 200
    text = response.content.decode()
    for name in ("store_checkouts_total", "store_stock_units_total", "store_outbox_unpublished_events",
                 "django_http_requests_total_by_method_total"):
        assert name in text, name


def test_metrics_need_the_token_when_one_is_set(client, settings):
    settings.METRICS_TOKEN = "s3cret"
    assert client.get("/metrics").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret").status_code == 200


def test_metrics_are_refused_without_a_token_unless_made_public(client, production_access):
    assert client.get("/metrics").status_code == 404
    production_access.METRICS_PUBLIC = True
    assert client.get("/metrics").status_code == 200


def test_a_failing_database_does_not_break_the_metrics(client, monkeypatch):
    from amazon_site.events import selectors

    def broken():
        raise OperationalError("down")

    monkeypatch.setattr(selectors, "unpublished_count", broken)
    response = client.get("/metrics")
    assert response.status_code == 200
    assert "store_outbox_unpublished_events -1.0" in response.content.decode()


def test_a_checkout_counts_as_placed_and_its_stock_as_reserved_and_sold(django_capture_on_commit_callbacks):
    def value(name, **labels):
        return REGISTRY.get_sample_value(name, labels) or 0

    placed, reserved, sold = value("store_checkouts_total", outcome="placed"), value(
        "store_stock_units_total", change="reserved"
    ), value("store_stock_units_total", change="sold")
    user = UserFactory()
    cart_id = cart_services.get_or_create_cart(user=user).pk
    address = checkout.save_address(
        user=user, data={"full_name": "Ada L", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"}
    )
    product = stocked_product(5)
    with django_capture_on_commit_callbacks(execute=True):
        cart_services.add_to_cart(cart_id, product.pk, 2)
        checkout.place_order(
            user=user, cart_id=cart_id, address=address, card=Card(TestGateway.SUCCEEDS, 12, 2099, "123"),
            checkout_key=uuid.uuid4(), expected_total=checkout_summary(user=user, cart_id=cart_id).total,
        )
    assert value("store_checkouts_total", outcome="placed") == placed + 1
    assert value("store_stock_units_total", change="reserved") == reserved + 2
    assert value("store_stock_units_total", change="sold") == sold + 2


# --- statement timeout ---


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL only")
def test_a_new_connection_has_the_statement_timeout(settings):
    fresh = connections.create_connection("default")
    try:
        with fresh.cursor() as cursor:
            cursor.execute("SHOW statement_timeout")
            assert cursor.fetchone()[0] == "15s"
            cursor.execute("SHOW jit")
            assert cursor.fetchone()[0] == "off"
    finally:
        fresh.close()
