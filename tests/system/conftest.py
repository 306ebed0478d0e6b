import uuid

import confluent_kafka
import pytest
from django.db import connection

from tests.outages import refuse_connection
from tests.system.mock_kafka import API_VERSION


@pytest.fixture(scope="session")
def kafka_cluster():
    """librdkafka's mock cluster: three in-process brokers, living as long as the Producer holding them."""
    cluster = confluent_kafka.Producer({"test.mock.num.brokers": 3, "log_level": 3})
    brokers = cluster.list_topics(timeout=5).brokers.values()
    yield ",".join(f"{broker.host}:{broker.port}" for broker in brokers)
    del cluster  # the brokers stop with it


@pytest.fixture
def kafka(settings, kafka_cluster):
    """The site pointed at the mock cluster, with topics of its own for this test."""
    settings.KAFKA_BOOTSTRAP_SERVERS = kafka_cluster
    settings.KAFKA_API_VERSION = API_VERSION
    settings.KAFKA_TOPIC_PREFIX = f"test-{uuid.uuid4().hex[:12]}."
    return settings


class Outage:
    """The database refusing connections from ``start()`` until ``end()``."""

    def __init__(self, monkeypatch):
        self.monkeypatch = monkeypatch

    def start(self):
        self.monkeypatch.setattr(connection, "cursor", refuse_connection)

    def end(self):
        self.monkeypatch.undo()


@pytest.fixture
def outage(monkeypatch):
    return Outage(monkeypatch)
