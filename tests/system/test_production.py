"""Production mode with every service together: ``make serve`` against PostgreSQL, Valkey, RabbitMQ and Kafka.

One shopper's checkout goes through the whole set the way it does in
production: nginx takes the requests (and serves the static files) and
gunicorn behind it serves the API, the order confirmation is a Celery task
that the worker process picks up from RabbitMQ and mails, the relay process
publishes the order's events from the outbox to Kafka (librdkafka's mock
cluster), and ``/metrics`` counts the checkout across gunicorn's workers.
Everything is started by the command operators use, and stopped with SIGTERM
as a process manager would.
"""
import json
import os
import re
import signal
import socket
import subprocess
import uuid
from pathlib import Path

import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from amazon_site.events.models import OutboxEvent
from orders.models import Order, Status
from tests.factories import UserFactory, stocked_product
from tests.processes import free_port, wait_for
from tests.orders.helpers import ADDRESS, card
from tests.system.mock_kafka import API_VERSION, read_topic

REPO = Path(__file__).resolve().parents[2]
BROKER = "amqp://guest:guest@127.0.0.1:5672//"
METRICS_TOKEN = "metrics-" + uuid.uuid4().hex
OPERATOR = {"Authorization": f"Bearer {METRICS_TOKEN}"}  # /metrics and /readyz's checks need it with DEBUG off


def rabbitmq_answers():
    try:
        socket.create_connection(("127.0.0.1", 5672), timeout=1).close()
        return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.system,
    pytest.mark.django_db(transaction=True),  # the served processes must see the test's rows
    pytest.mark.skipif(connection.vendor != "postgresql", reason="production mode runs on PostgreSQL"),
    pytest.mark.skipif(not rabbitmq_answers(), reason="needs RabbitMQ on 127.0.0.1:5672"),
]


@pytest.fixture
def served(kafka, tmp_path):
    """``make serve`` (migrate, collectstatic, then honcho with the Procfile) on a free port; its output in a file."""
    db = connection.settings_dict
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}",
        "VALKEY_URL": os.environ.get("VALKEY_URL", "redis://127.0.0.1:6379/15"),
        "CELERY_BROKER_URL": BROKER,
        "KAFKA_BOOTSTRAP_SERVERS": kafka.KAFKA_BOOTSTRAP_SERVERS,
        "KAFKA_API_VERSION": ".".join(map(str, API_VERSION)),
        "KAFKA_TOPIC_PREFIX": kafka.KAFKA_TOPIC_PREFIX,
        "DEBUG": "0",
        "SECRET_KEY": "production-test-" + uuid.uuid4().hex,
        "METRICS_TOKEN": METRICS_TOKEN,
        "ALLOWED_HOSTS": "127.0.0.1",
        "HOST": "127.0.0.1",
        "PORT": str(port),  # nginx's; gunicorn listens on loopback WEB_PORT behind it
        "WEB_PORT": str(free_port()),
        "WEB_CONCURRENCY": "2",
        "CELERY_CONCURRENCY": "1",
        # Plain HTTP on loopback: no redirect to HTTPS, cookies without Secure.
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "EMAIL_BACKEND": "django.core.mail.backends.console.EmailBackend",
    }
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    output = tmp_path / "serve.log"
    with output.open("wb") as sink:
        process = subprocess.Popen(
            ["make", "serve"], cwd=REPO, env=env, stdout=sink, stderr=subprocess.STDOUT, start_new_session=True
        )
    base = f"http://127.0.0.1:{port}"

    def ready():
        assert process.poll() is None, output.read_text()
        try:
            return requests.get(f"{base}/readyz", headers=OPERATOR, timeout=5)
        except requests.RequestException:  # not listening yet, or a worker still starting
            return None

    try:
        readiness = wait_for(ready, 90, "make serve did not become ready", interval=0.2)
        yield base, readiness, output, process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


def test_a_checkout_runs_through_gunicorn_the_worker_the_relay_and_the_metrics(served, kafka):
    base, readiness, output, process = served
    user = UserFactory(email="ada@example.com")
    token = Token.objects.create(user=user).key
    kettle = stocked_product(3, title="Copper kettle", price="30.00")
    api = requests.Session()
    api.headers["Authorization"] = f"Token {token}"

    assert readiness.status_code == 200
    checks = readiness.json()["checks"]
    assert {name: checks[name]["status"] for name in ("database", "cache", "broker")} == dict.fromkeys(
        ("database", "cache", "broker"), "ok"
    )
    home = requests.get(f"{base}/", timeout=10)
    assert home.status_code == 200  # templates and the static manifest
    stylesheet = requests.get(base + re.search(r'href="(/static/[^"]+\.css)"', home.text).group(1), timeout=10)
    assert stylesheet.status_code == 200 and "immutable" in stylesheet.headers["Cache-Control"]
    assert "X-Request-ID" not in stylesheet.headers  # nginx served it from disk; Django never saw it

    assert api.post(f"{base}/api/cart/lines/", json={"product": kettle.pk, "quantity": 2}, timeout=10).status_code == 200
    total = api.get(f"{base}/api/checkout/", timeout=10).json()["total"]
    placed = api.post(
        f"{base}/api/checkout/", json={"address": ADDRESS, "card": card(), "expected_total": total},
        headers={"Idempotency-Key": str(uuid.uuid4())}, timeout=30,
    )
    assert placed.status_code == 201, placed.text
    order = Order.objects.get(number=placed.json()["number"])
    assert order.status == Status.PAID

    # The worker process took the mail task from RabbitMQ and sent it (the console backend prints it).
    def mail_lines():
        subject = f"Subject: Your order {order.number} is confirmed"
        return [line for line in output.read_text().splitlines() if subject in line]

    assert all(" worker.1 " in line for line in wait_for(mail_lines, 60, "the worker did not send the confirmation"))

    # The relay process published the order's events to Kafka.
    events = OutboxEvent.objects.filter(topic="orders", key=str(order.pk))
    wait_for(lambda: events.exists() and not events.filter(published_at__isnull=True).exists(), 60,
             "the relay did not publish the order's events")
    published = [json.loads(message.value) for message in read_topic("orders", kafka)]
    assert [event["type"] for event in published if event["number"] == order.number] == ["order.pending", "order.paid"]

    assert requests.get(f"{base}/metrics", timeout=10).status_code == 404  # not without the token
    metrics = requests.get(f"{base}/metrics", headers=OPERATOR, timeout=10).text
    assert 'store_checkouts_total{outcome="placed"} 1.0' in metrics

    os.killpg(process.pid, signal.SIGTERM)
    assert process.wait(timeout=30) is not None  # every process stops on SIGTERM
