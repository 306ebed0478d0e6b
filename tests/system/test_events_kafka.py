"""The relay against a real Kafka wire protocol: librdkafka's mock cluster.

confluent-kafka (a test-only dependency) starts three in-process brokers that
live as long as the Producer holding them; they auto-create topics with four
partitions. The relay talks to them with kafka-python like to any cluster, and
the tests read topics back without a consumer group (partitions assigned by
hand), so nothing waits on a group rebalance.
"""
import json
import logging
import os
import signal
import threading
import time
from collections import defaultdict
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from amazon_site.events import services, tasks
from amazon_site.events.kafka import KafkaError, make_producer
from amazon_site.events.models import OutboxEvent
from tests.processes import free_port
from tests.system.mock_kafka import ProducerProxy, dedupe, read_topic

pytestmark = [pytest.mark.system, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def producer(kafka):
    producer = make_producer()
    yield producer
    producer.close()


def record(*events):
    with transaction.atomic():
        return [services.record(topic, key, payload) for topic, key, payload in events]


def event_ids(messages):
    return [json.loads(message.value)["event_id"] for message in messages]


def by_key(messages):
    keys = defaultdict(list)
    for message in messages:
        keys[message.key.decode()].append(json.loads(message.value)["event_id"])
    return dict(keys)


def unpublished():
    return OutboxEvent.objects.filter(published_at__isnull=True).count()


def test_events_are_published_in_order_per_key_and_marked(kafka):
    # Three orders and two products, interleaved, over several batches.
    events = []
    for step in range(4):
        events += [("orders", order, {"order_id": order, "step": step}) for order in (1, 2, 3)]
        events += [("inventory", product, {"available": Decimal(step)}) for product in (7, 8)]
    ids = record(*events)

    assert services.relay(once=True, batch_size=5) == len(events)

    assert unpublished() == 0
    orders, inventory = read_topic("orders", kafka), read_topic("inventory", kafka)
    assert sorted(event_ids(orders) + event_ids(inventory)) == ids  # each event once
    expected = defaultdict(list)
    for event_id, (_, key, _) in zip(ids, events):
        expected[str(key)].append(event_id)
    assert by_key(orders) | by_key(inventory) == expected
    for message in orders + inventory:
        value = json.loads(message.value)
        assert dict(message.headers) == {"event_id": str(value["event_id"]).encode()}
        row = OutboxEvent.objects.get(pk=value["event_id"])
        assert value == {**row.payload, "event_id": row.pk, "topic": row.topic, "created_at": row.created_at.isoformat()}
    assert {json.loads(message.value)["available"] for message in inventory} == {"0", "1", "2", "3"}


class RelayKilled(Exception):
    pass


class KilledAfterFlush(ProducerProxy):
    """A relay killed once its sends reached Kafka, before it marked them."""

    def flush(self, timeout=None):
        super().flush(timeout)
        raise RelayKilled


def test_relay_killed_before_marking_sends_again_and_consumers_dedupe(kafka, producer):
    ids = record(*[("orders", order, {"step": step}) for step in range(3) for order in (1, 2)])

    with pytest.raises(RelayKilled):
        services.publish_pending(KilledAfterFlush(producer))
    assert unpublished() == len(ids)
    assert sorted(event_ids(read_topic("orders", kafka))) == ids  # sent, yet not marked

    assert services.publish_pending(producer) == len(ids)

    assert unpublished() == 0
    raw = read_topic("orders", kafka)
    assert sorted(event_ids(raw)) == sorted(ids * 2)
    applied = dedupe(raw)
    assert sorted(event_ids(applied)) == ids
    assert by_key(applied) == {"1": ids[0::2], "2": ids[1::2]}


def test_a_refused_send_leaves_the_whole_batch_unpublished(kafka, producer):
    ids = record(*[("orders", 1, {"step": step}) for step in range(3)])

    class Refused:
        def get(self, timeout=None):
            raise KafkaError("the broker refused the record")

    class RefusesTheSecond(ProducerProxy):
        sent = 0

        def send(self, *args, **kwargs):
            future = super().send(*args, **kwargs)
            self.sent += 1
            return Refused() if self.sent == 2 else future

    with pytest.raises(KafkaError, match="refused"):
        services.publish_pending(RefusesTheSecond(producer))
    assert unpublished() == len(ids)

    assert services.publish_pending(producer) == len(ids)
    assert unpublished() == 0


def test_unreachable_kafka_keeps_every_event_and_the_relay_recovers(kafka, caplog):
    ids = record(*[("orders", order, {"step": step}) for step in range(3) for order in (1, 2)])
    unreachable = f"127.0.0.1:{free_port()}"

    dead = make_producer(bootstrap_servers=[unreachable], max_block_ms=200)
    with pytest.raises(KafkaError):
        services.publish_pending(dead)
    dead.close()
    assert unpublished() == len(ids)

    class Stop(threading.Event):
        """Records the relay's waits instead of sleeping through them."""

        def __init__(self):
            super().__init__()
            self.waits = []

        def wait(self, timeout=None):
            self.waits.append(timeout)
            return self.is_set()

    stop, attempts = Stop(), []

    def factory():
        attempts.append(len(attempts))
        if len(attempts) == 1:  # cannot even learn the brokers' version
            return make_producer(bootstrap_servers=[unreachable], api_version=None, bootstrap_timeout_ms=200)
        if len(attempts) == 2:  # starts, then cannot send
            return make_producer(bootstrap_servers=[unreachable], max_block_ms=200)
        stop.set()  # Kafka is back: this round drains the outbox, then the relay stops
        return make_producer()

    with caplog.at_level(logging.WARNING, logger="amazon_site.events.services"):
        published = services.relay(interval=5, stop=stop, producer_factory=factory)

    assert published == len(ids)
    assert len(attempts) == 3
    assert stop.waits == [services.BACKOFF_INITIAL, 2 * services.BACKOFF_INITIAL, 5]
    assert len([r for r in caplog.records if "Kafka is unavailable" in r.getMessage()]) == 2
    assert unpublished() == 0
    assert sorted(event_ids(read_topic("orders", kafka))) == ids


def test_relay_once_raises_when_kafka_is_unreachable(kafka):
    record(("orders", 1, {}))
    kafka.KAFKA_BOOTSTRAP_SERVERS = f"127.0.0.1:{free_port()}"

    with pytest.raises(KafkaError):
        services.relay(once=True, producer_factory=lambda: make_producer(max_block_ms=200))
    assert unpublished() == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the relay lock is a PostgreSQL advisory lock")
def test_second_relay_skips_while_the_first_holds_the_lock(kafka, producer):
    ids = record(*[("orders", 1, {"step": step}) for step in range(3)])
    sending, release = threading.Event(), threading.Event()

    class SlowFlush(ProducerProxy):
        def flush(self, timeout=None):
            sending.set()
            assert release.wait(10)
            super().flush(timeout)

    first = []

    def first_relay():
        try:
            first.append(services.publish_pending(SlowFlush(producer)))
        finally:
            connection.close()

    thread = threading.Thread(target=first_relay)
    thread.start()
    try:
        assert sending.wait(10)
        assert services.publish_pending(producer) == 0  # skipped: nothing sent twice
    finally:
        release.set()
        thread.join(10)

    assert first == [len(ids)]
    assert unpublished() == 0
    assert event_ids(read_topic("orders", kafka)) == ids


def test_command_relays_until_terminated(kafka, capsys):
    ids = record(("orders", 1, {}), ("orders", 2, {}))
    default_handler = signal.getsignal(signal.SIGTERM)

    def terminate_once_handled():
        # Only once the command handles SIGTERM: before, it would end pytest.
        deadline = time.monotonic() + 10
        while signal.getsignal(signal.SIGTERM) is default_handler and time.monotonic() < deadline:
            time.sleep(0.01)
        if signal.getsignal(signal.SIGTERM) is not default_handler:
            time.sleep(0.3)  # a few rounds
            os.kill(os.getpid(), signal.SIGTERM)

    terminator = threading.Thread(target=terminate_once_handled)
    terminator.start()
    call_command("relay_events", "--interval", "0.05")
    terminator.join()

    assert "Published 2 events." in capsys.readouterr().out
    assert signal.getsignal(signal.SIGTERM) is default_handler
    assert sorted(event_ids(read_topic("orders", kafka))) == ids


def test_command_and_task_publish_pending_events(kafka, capsys):
    ids = record(("orders", 1, {}), ("inventory", 7, {}))

    call_command("relay_events", "--once", "--batch-size", "1")
    assert "Published 2 events." in capsys.readouterr().out
    ids += record(("orders", 2, {}))
    assert tasks.relay_events() == 1

    assert unpublished() == 0
    assert sorted(event_ids(read_topic("orders", kafka)) + event_ids(read_topic("inventory", kafka))) == ids
