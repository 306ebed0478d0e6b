"""Reading librdkafka's mock cluster back, for the tests that relay events to it.

The cluster itself and the site pointed at it are fixtures (``kafka_cluster``,
``kafka``) in tests/system/conftest.py.
"""
import time
import warnings
from collections import defaultdict

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)  # see amazon_site/events/kafka.py
    from kafka import KafkaConsumer, TopicPartition

# kafka-python cannot detect the mock cluster's version (its bootstrap times out), so it is given.
API_VERSION = (2, 1, 0)


def read_topic(topic, settings):
    """Every message of a topic, each partition in order, without a consumer group."""
    consumer = KafkaConsumer(
        bootstrap_servers=settings.KAFKA_BOOTSTRAP_SERVERS.split(","),
        api_version=API_VERSION,
        enable_auto_commit=False,
    )
    try:
        topic = settings.KAFKA_TOPIC_PREFIX + topic
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic)]
        consumer.assign(partitions)
        consumer.seek_to_beginning()
        end = consumer.end_offsets(partitions)
        messages = defaultdict(list)
        deadline = time.monotonic() + 10
        while any(consumer.position(partition) < end[partition] for partition in partitions):
            assert time.monotonic() < deadline, "the topic could not be read to its end"
            for partition, batch in consumer.poll(timeout_ms=200).items():
                messages[partition.partition].extend(batch)
        return [message for partition in sorted(messages) for message in messages[partition]]
    finally:
        consumer.close()


def dedupe(messages):
    """What a consumer that remembers the event ids it has handled applies."""
    seen, applied = set(), []
    for message in messages:
        event_id = int(dict(message.headers)["event_id"])
        if event_id not in seen:
            seen.add(event_id)
            applied.append(message)
    return applied


class ProducerProxy:
    """A producer passing every call on: tests override one method to break it."""

    def __init__(self, producer):
        self.producer = producer

    def send(self, *args, **kwargs):
        return self.producer.send(*args, **kwargs)

    def flush(self, timeout=None):
        self.producer.flush(timeout)

    def close(self):
        self.producer.close()
