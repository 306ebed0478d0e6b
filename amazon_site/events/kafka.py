"""The relay's Kafka producer, configured for per-key order and durability.

The one module of the site that imports kafka-python (about 150 ms), so only
the relay pays for it, not every process that records events.
"""
import warnings

from django.conf import settings

with warnings.catch_warnings():
    # kafka-python 3.0 loads its protocol schemas on import with an importlib
    # API deprecated in Python 3.11: 218 warnings about the library, not this site.
    warnings.simplefilter("ignore", DeprecationWarning)
    from kafka import KafkaProducer
    from kafka.errors import KafkaError

__all__ = ["KafkaError", "make_producer"]


def make_producer(**overrides) -> KafkaProducer:
    """A producer for ``KAFKA_BOOTSTRAP_SERVERS``; ``overrides`` replace any setting.

    Retries are left at the client's default (unlimited), bounded in time by
    ``delivery_timeout_ms``: a send that has not succeeded by then fails, the
    relay leaves its row unpublished and sends it again later.
    """
    config = {
        "bootstrap_servers": settings.KAFKA_BOOTSTRAP_SERVERS.split(","),
        "client_id": "outbox-relay",
        # Every in-sync replica has the event before its row is marked published.
        "acks": "all",
        # One request at a time per broker: a retried batch cannot be
        # overtaken by the next one, so events of a key stay in order.
        "max_in_flight_requests_per_connection": 1,
        # The relay sends a whole batch and then flushes, so lingering buys nothing
        # beyond a few milliseconds of batching.
        "linger_ms": 5,
        # None asks the broker (one round trip when the producer starts).
        "api_version": settings.KAFKA_API_VERSION,
        "request_timeout_ms": 10_000,
        "delivery_timeout_ms": 30_000,
        # Bounds connecting and waiting for a topic's metadata, so an
        # unreachable cluster fails a relay round instead of hanging it.
        "bootstrap_timeout_ms": 10_000,
        "max_block_ms": 10_000,
    }
    return KafkaProducer(**{**config, **overrides})
