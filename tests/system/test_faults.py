"""Fault tests: real services stopped or killed in the middle of shopping.

The other outage tests start with a service already gone (a cache on a port
nobody listens on, an unreachable Kafka). These take one away while it is in
use, the way it happens in production:

- a Valkey (a private ``redis-server``) that holds sessions, counts and stock
  badges is killed between two requests of a shopper, who then browses, changes
  the cart and checks out;
- Kafka is down while shoppers check out: the relay fails, the outbox keeps
  every event, and once Kafka is back each event reaches its topic, in order
  per key, exactly once after the consumers' dedupe;
- a process placing an order (a script, then a gunicorn worker serving the
  checkout page) is SIGKILLed inside the order's transaction (PostgreSQL
  only: the child process needs the test database on a server): nothing of
  the order may survive, and the same checkout succeeds afterwards.
"""
import json
import os
import queue
import re
import runpy
import shutil
import signal
import subprocess
import sys
import threading
import time
import uuid
from collections import defaultdict
from pathlib import Path

import pytest
import redis
import requests
from django.conf import settings as django_settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
from django.contrib.sessions.backends.db import SessionStore as DatabaseSession
from django.db import OperationalError, connection, transaction
from redis.backoff import NoBackoff
from redis.retry import Retry

from amazon_site.events import services as events
from amazon_site.events.kafka import KafkaError, make_producer
from amazon_site.events.models import OutboxEvent
from cart import services as cart_services
from cart.models import CartLine, Reservation
from catalog.models import Inventory
from orders import checkout as order_checkout
from orders.models import Order, OrderEvent, OrderItem, Payment, Status
from orders.payments import Card, TestGateway
from orders.selectors import checkout_summary
from orders.views import ADDRESS_SESSION_KEY
from tests.factories import PASSWORD, CategoryFactory, UserFactory, stock_invariant_violations, stocked_product
from tests.processes import database_url, free_port, wait_for
from tests.system.mock_kafka import ProducerProxy, dedupe, read_topic
from tests.orders.helpers import address_data, pay_data

pytestmark = pytest.mark.system

REPO = Path(__file__).resolve().parents[2]
CARD = Card(TestGateway.SUCCEEDS, 12, 2099, "123")
ADDRESS = {"full_name": "A B", "line1": "1 Main St", "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"}

requires_postgres = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="a second process needs the test database on a PostgreSQL server"
)


def stop_process(process):
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def shopper_with_cart(*lines):
    """A signed-up shopper whose cart holds ``(product, quantity)`` lines, with a saved address."""
    user = UserFactory()
    cart = cart_services.get_or_create_cart(user=user)
    for product, quantity in lines:
        assert cart_services.add_to_cart(cart.pk, product.pk, quantity).added == quantity
    return user, cart.pk, order_checkout.save_address(user=user, data=ADDRESS)


def checkout(user, cart_id, address, checkout_key=None):
    total = checkout_summary(user=user, cart_id=cart_id).total
    return order_checkout.place_order(
        user=user, cart_id=cart_id, address=address, card=CARD, checkout_key=checkout_key or uuid.uuid4(),
        expected_total=total,
    )


# --- 1. Valkey killed mid-run ---------------------------------------------------------------


@pytest.fixture
def private_valkey(settings, monkeypatch):
    """A redis-server of this test's own, and the site's cache and sessions on it as production sets them up.

    The settings module is run again with VALKEY_URL pointing at it, so the
    test follows whatever production configures (timeouts, IGNORE_EXCEPTIONS,
    the session engine) instead of a copy of it.
    """
    binary = shutil.which("redis-server") or shutil.which("valkey-server")
    if binary is None:
        pytest.skip("needs a redis-server or valkey-server binary on PATH")
    port = free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    client = redis.Redis(port=port, socket_timeout=1, retry=Retry(NoBackoff(), 0))  # fails at once when it is gone
    try:

        def answers():
            assert server.poll() is None, "redis-server exited at start-up"
            try:
                return client.ping()
            except redis.ConnectionError:
                return False

        wait_for(answers, 10, "redis-server did not start")
        url = f"redis://127.0.0.1:{port}/0"
        monkeypatch.setenv("VALKEY_URL", url)
        production = runpy.run_path(str(REPO / "amazon_site" / "settings.py"))
        assert production["CACHES"]["default"]["LOCATION"] == url
        settings.CACHES = production["CACHES"]
        settings.SESSION_ENGINE = production["SESSION_ENGINE"]
        settings.DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = production["DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS"]
        yield server, client
    finally:
        client.close()
        stop_process(server)


def cached_keys(client):
    return {key.decode() for key in client.keys("*")}


@pytest.mark.django_db(transaction=True)  # on-commit cache invalidation runs as in production
def test_a_shopper_keeps_browsing_and_checks_out_after_valkey_is_killed(client, private_valkey):
    server, valkey = private_valkey
    category = CategoryFactory(slug="garden", name="Garden")
    rake = stocked_product(4, 3, category=category, title="Steel Rake")
    hose = stocked_product(5, category=category, title="Garden Hose", price="12.00")
    user = UserFactory()

    # With Valkey up: a real log-in and some shopping fill the cache.
    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    for url in ("/", "/c/garden/", rake.get_absolute_url(), "/search/?q=rake"):
        assert client.get(url).status_code == 200, url
    response = client.post("/cart/add/", {"product": rake.pk, "quantity": "2"}, follow=True)
    assert response.status_code == 200 and 'class="cart-count">2<' in response.content.decode()
    assert "Only 5 left" in client.get(rake.get_absolute_url()).content.decode()
    keys = cached_keys(valkey)
    session_key = client.cookies[django_settings.SESSION_COOKIE_NAME].value
    cart_id = cart_services.get_or_create_cart(user=user).pk
    assert any(session_key in key for key in keys), keys
    for expected in (
        "store:1:catalog:category-tree:v1",
        f"store:1:cart:count:v1:{cart_id}",
        f"store:1:catalog:available:v1:{rake.pk}",
    ):
        assert expected in keys, (expected, keys)

    # Valkey dies between two requests; nothing restarts it.
    server.kill()
    server.wait(timeout=10)
    with pytest.raises(redis.ConnectionError):
        valkey.ping()

    pages = ("/", "/c/garden/", rake.get_absolute_url(), hose.get_absolute_url(), "/search/?q=rake", "/cart/",
             "/checkout/", "/orders/")
    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url  # also not a redirect to log in: the session is in the database
        assert response.context["user"] == user, url

    line = CartLine.objects.get(cart_id=cart_id, product=rake)
    assert client.post(f"/cart/lines/{line.pk}/", {"quantity": "5"}).status_code == 302
    assert client.post("/cart/add/", {"product": hose.pk, "quantity": "1"}).status_code == 302
    response = client.get("/cart/")
    assert 'class="cart-count">6<' in response.content.decode()
    assert sorted(CartLine.objects.filter(cart_id=cart_id).values_list("product_id", "quantity")) == [
        (rake.pk, 5), (hose.pk, 1)
    ]
    assert sum(Inventory.objects.filter(product=rake).values_list("reserved", flat=True)) == 5
    assert stock_invariant_violations() == []
    assert "Only 2 left" in client.get(rake.get_absolute_url()).content.decode()

    assert client.post("/checkout/", address_data())["Location"] == "/checkout/review/"
    review = client.get("/checkout/review/")
    assert review.status_code == 200
    response = client.post("/checkout/review/", pay_data(review), follow=True)

    order = Order.objects.get(user=user)
    assert response.redirect_chain[-1][0] == f"/orders/{order.number}/?placed=1"
    assert response.status_code == 200
    assert order.status == Status.PAID
    assert list(order.payments.values_list("kind", "outcome", "amount")) == [("charge", "succeeded", order.total)]
    assert sorted(order.items.values_list("product_id", "quantity")) == [(rake.pk, 5), (hose.pk, 1)]
    assert sum(Inventory.objects.filter(product=rake).values_list("quantity", flat=True)) == 2
    assert not CartLine.objects.filter(cart_id=cart_id).exists()
    assert stock_invariant_violations() == []
    response = client.get("/orders/")
    assert response.status_code == 200 and order.number in response.content.decode()
    for url in pages[:-2] + (f"/orders/{order.number}/",):
        assert client.get(url).status_code == 200, url


# --- 2. Kafka down during checkouts -----------------------------------------------------------


class AcksLost(ProducerProxy):
    """A producer whose sends reach Kafka while the relay never hears back (a network cut, a relay restart)."""

    def flush(self, timeout=None):
        super().flush(timeout)
        raise KafkaError("the acknowledgements were lost")


def unpublished():
    return OutboxEvent.objects.filter(published_at__isnull=True).count()


@pytest.mark.django_db(transaction=True)
def test_events_of_checkouts_made_while_kafka_is_down_reach_it_once_each_in_order_when_it_returns(kafka):
    cluster = kafka.KAFKA_BOOTSTRAP_SERVERS
    kafka.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"  # Kafka is down
    shared = stocked_product(10, 10)  # its stock events from every checkout share one key
    orders, backlog = [], unpublished()

    for _ in range(3):
        user, cart_id, address = shopper_with_cart((shared, 2), (stocked_product(3), 1))
        result = checkout(user, cart_id, address)
        assert result.order.status == Status.PAID  # the shopper does not notice the outage
        orders.append(result.order)
        with pytest.raises(KafkaError):
            events.relay(once=True, producer_factory=lambda: make_producer(max_block_ms=200))
        assert unpublished() > backlog, "the checkout's events must wait in the outbox"
        backlog = unpublished()
        assert backlog == OutboxEvent.objects.count()  # nothing was marked published

    # Kafka is back, and flaps once: the first batch reaches it but its acknowledgements are lost.
    kafka.KAFKA_BOOTSTRAP_SERVERS = cluster
    with pytest.raises(KafkaError, match="acknowledgements"):
        events.relay(once=True, batch_size=4, producer_factory=lambda: AcksLost(make_producer()))
    assert unpublished() == backlog
    assert events.relay(once=True, batch_size=4) == backlog
    assert unpublished() == 0

    rows = list(OutboxEvent.objects.order_by("id").values_list("id", "topic", "key"))
    assert {topic for _, topic, _ in rows} == {"orders", "inventory"}
    consumed = {topic: read_topic(topic, kafka) for topic in ("orders", "inventory")}
    assert sum(map(len, consumed.values())) == len(rows) + 4  # the flapping batch went twice
    applied = {topic: dedupe(messages) for topic, messages in consumed.items()}
    applied_ids = [int(dict(m.headers)["event_id"]) for messages in applied.values() for m in messages]
    assert sorted(applied_ids) == [event_id for event_id, _, _ in rows]  # each event exactly once

    expected_order, seen_order = defaultdict(list), defaultdict(list)
    for event_id, topic, key in rows:
        expected_order[topic, key].append(event_id)
    for topic, messages in applied.items():
        for message in messages:  # partition by partition, and a key has one partition
            seen_order[topic, message.key.decode()].append(int(dict(message.headers)["event_id"]))
    assert seen_order == expected_order
    assert len(expected_order["inventory", str(shared.pk)]) == 6  # reserved and sold, three times

    placed = defaultdict(list)
    for message in applied["orders"]:
        value = json.loads(message.value)
        placed[value["number"]].append(value["type"])
    assert placed == {order.number: ["order.pending", "order.paid"] for order in orders}


# --- 3. A process SIGKILLed inside the order's transaction (PostgreSQL) ------------------------


class Child:
    """A child process whose stdout lines are read by a thread, so waits on them have deadlines.

    It runs on the test database, and pauses inside the next order-placing
    transaction (tests/system/faults/pause.py).
    """

    def __init__(self, args, flag):
        flag.touch()
        env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "1", "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])),
               "FAULT_PAUSE_FLAG": str(flag)}
        env.pop("VALKEY_URL", None)  # no cache entries the test would have to clear; sessions in the database
        self.process = subprocess.Popen(
            args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
        )
        self.lines, self.errors = queue.Queue(), []
        threading.Thread(target=self._read, daemon=True).start()
        threading.Thread(target=lambda: self.errors.extend(self.process.stderr), daemon=True).start()

    def _read(self):
        for line in self.process.stdout:
            self.lines.put(line.strip())
        self.lines.put(None)

    def wait_for_line(self, prefix, timeout):
        deadline = time.monotonic() + timeout
        while True:
            try:
                line = self.lines.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                line = ""
            if line is None or (line == "" and time.monotonic() >= deadline):
                self.stop()
                pytest.fail(f"no {prefix!r} from the child; its stderr:\n{''.join(self.errors)[-3000:]}")
            if line.startswith(prefix):
                return line

    def stop(self):
        # The whole process group: a paused gunicorn worker would outlive its master, holding its locks.
        try:
            os.killpg(self.process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.process.wait(timeout=10)


@pytest.fixture
def children(tmp_path):
    started = []

    def start(*args):
        started.append(Child(args, tmp_path / f"pause-{len(started)}"))
        return started[-1]

    yield start
    for child in started:
        child.stop()


def backend_is_gone(pid):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT (SELECT count(*) FROM pg_stat_activity WHERE pid = %s)"
            " + (SELECT count(*) FROM pg_locks WHERE pid = %s)",
            [pid, pid],
        )
        return cursor.fetchone()[0] == 0


class PreparedCheckout:
    """A shopper's committed cart, and what stock, cart and outbox look like before checkout."""

    def __init__(self):
        self.kettle = stocked_product(3, 2, title="Blue Kettle")  # the line of 4 spans both warehouses
        self.mug = stocked_product(5, title="Mug")
        self.user, self.cart_id, self.address = shopper_with_cart((self.kettle, 4), (self.mug, 1))
        self.stock, self.cart = self.stock_now(), self.cart_now()
        self.events = self.events_now()
        self.total = checkout_summary(user=self.user, cart_id=self.cart_id).total

    def stock_now(self):
        return sorted(Inventory.objects.filter(product__in=[self.kettle, self.mug]).values_list(
            "product_id", "warehouse_id", "quantity", "reserved"))

    def cart_now(self):
        lines = CartLine.objects.filter(cart_id=self.cart_id).values_list("id", "product_id", "quantity")
        rows = Reservation.objects.filter(line__cart_id=self.cart_id).values_list(
            "id", "line_id", "warehouse_id", "quantity", "reserved_until")
        return sorted(lines), sorted(rows)

    def events_now(self):
        return set(OutboxEvent.objects.values_list("id", flat=True))

    def assert_untouched_while_the_order_transaction_is_open(self):
        """The paused transaction's writes are invisible, and it holds the stock row locks."""
        assert not Order.objects.exists()
        assert self.stock_now() == self.stock and self.cart_now() == self.cart
        with pytest.raises(OperationalError, match="could not obtain lock"):
            with transaction.atomic():
                list(Inventory.objects.select_for_update(nowait=True).filter(product=self.kettle))

    def assert_nothing_of_the_order_survived(self):
        assert not Order.objects.exists()
        assert not OrderItem.objects.exists() and not OrderEvent.objects.exists() and not Payment.objects.exists()
        assert self.stock_now() == self.stock  # nothing sold, every reservation still counted
        assert self.cart_now() == self.cart  # same lines, quantities and reservation rows
        assert self.events_now() == self.events
        assert stock_invariant_violations() == []

    def assert_checked_out_exactly_the_cart(self):
        order = Order.objects.get()
        assert order.user == self.user and order.status == Status.PAID and order.total == self.total
        assert sorted(order.items.values_list("product_id", "quantity")) == sorted(
            [(self.kettle.pk, 4), (self.mug.pk, 1)]
        )
        assert list(order.payments.values_list("kind", "outcome")) == [("charge", "succeeded")]
        # What the cart held is sold: off the shelf and out of the reservations.
        assert self.stock_now() == sorted((product, warehouse, quantity - reserved, 0)
                                          for product, warehouse, quantity, reserved in self.stock)
        assert self.cart_now() == ([], [])
        assert stock_invariant_violations() == []
        return order


def kill_paused(child, line):
    """SIGKILL the process that printed ``paused <backend pid> <pid>``; wait until PostgreSQL has let go of it."""
    _, backend_pid, pid = line.split()
    os.kill(int(pid), signal.SIGKILL)
    wait_for(lambda: backend_is_gone(int(backend_pid)), 30, "PostgreSQL kept the killed process's backend or locks")


@requires_postgres
@pytest.mark.django_db(transaction=True)  # the child must see the prepared cart: it is committed
def test_a_checkout_killed_inside_its_transaction_leaves_no_order_and_the_cart_checks_out_again(children):
    prepared = PreparedCheckout()
    key = uuid.uuid4()
    child = children(
        sys.executable, str(REPO / "tests" / "system" / "faults" / "place_order_paused.py"),
        json.dumps({"user": prepared.user.pk, "cart": prepared.cart_id, "address": prepared.address.pk,
                    "checkout_key": str(key), "expected_total": str(prepared.total)}),
    )
    paused = child.wait_for_line("paused", 30)
    prepared.assert_untouched_while_the_order_transaction_is_open()

    kill_paused(child, paused)
    assert child.process.wait(timeout=10) == -signal.SIGKILL

    prepared.assert_nothing_of_the_order_survived()
    # The same checkout (same key) again, in this process: one order, exactly the cart.
    result = checkout(prepared.user, prepared.cart_id, prepared.address, checkout_key=key)
    assert result.order == prepared.assert_checked_out_exactly_the_cart()


def logged_in_session(user, **data):
    """A session row such as logging in leaves, in the database, where the child's sessions are read."""
    session = DatabaseSession()
    session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: "django.contrib.auth.backends.ModelBackend",
                    HASH_SESSION_KEY: user.get_session_auth_hash(), **data})
    session.save()
    return session.session_key


def hidden_fields(html):
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', html))


@requires_postgres
@pytest.mark.django_db(transaction=True)
def test_a_gunicorn_worker_killed_mid_checkout_leaves_no_order_and_the_form_sent_again_places_one(children):
    prepared = PreparedCheckout()
    port = free_port()
    server = children(
        sys.executable, "-m", "gunicorn", "amazon_site.wsgi", "--bind", f"127.0.0.1:{port}",
        "--config", str(REPO / "tests" / "system" / "faults" / "gunicorn_paused.py"),
    )
    site = f"http://127.0.0.1:{port}"
    browser = requests.Session()
    browser.cookies.set(
        django_settings.SESSION_COOKIE_NAME,
        logged_in_session(prepared.user, **{ADDRESS_SESSION_KEY: prepared.address.pk}),
    )

    def get_review():
        assert server.process.poll() is None, f"gunicorn exited:\n{''.join(server.errors)[-3000:]}"
        try:
            return browser.get(f"{site}/checkout/review/", allow_redirects=False, timeout=10)
        except requests.ConnectionError:
            return None  # not listening yet

    review = wait_for(get_review, 30, "gunicorn did not answer")
    assert review.status_code == 200, review.text[:2000]
    form = {**hidden_fields(review.text), "card_number": "4242 4242 4242 4242", "exp_month": "12",
            "exp_year": str(time.gmtime().tm_year + 1), "cvc": "123"}
    assert form.keys() >= {"csrfmiddlewaretoken", "checkout_key", "expected_total"}

    def place():
        try:
            return browser.post(f"{site}/checkout/review/", data=form, allow_redirects=False, timeout=60)
        except requests.RequestException as error:
            return error

    def place_again():
        response = place()
        return None if isinstance(response, requests.ConnectionError) else response  # no worker yet

    first = []
    submit = threading.Thread(target=lambda: first.append(place()))
    submit.start()
    try:
        paused = server.wait_for_line("paused", 30)
        assert int(paused.split()[2]) != server.process.pid  # a worker, not the master
        prepared.assert_untouched_while_the_order_transaction_is_open()
        kill_paused(server, paused)
    except BaseException:
        server.stop()  # or the request below waits out its timeout on the paused worker
        raise
    finally:
        submit.join(60)
    assert isinstance(first[0], requests.ConnectionError), first  # the browser got no answer

    prepared.assert_nothing_of_the_order_survived()
    # The shopper sends the form again; the master has started a new worker meanwhile.
    again = wait_for(place_again, 30, "no new gunicorn worker answered")
    order = prepared.assert_checked_out_exactly_the_cart()
    assert again.status_code == 302 and again.headers["Location"] == f"/orders/{order.number}/?placed=1"
    orders_page = browser.get(f"{site}/orders/", timeout=10)
    assert orders_page.status_code == 200 and order.number in orders_page.text
