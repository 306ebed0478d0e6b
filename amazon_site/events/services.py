"""Writing events to the outbox and relaying them to Kafka.

An event is a row written in the same transaction as the change it describes,
so it exists if and only if the change committed. The relay sends unpublished
rows to Kafka in id order and marks them published in one transaction:

- At least once. A relay that dies after sending and before committing the
  mark sends the batch again; consumers dedupe by ``event_id``.
- Per-key order. The message key is the row's ``key`` (an order id, a product
  id), so a key's events land on one partition, in id order.
- One relay at a time. On PostgreSQL the relay's transaction takes an advisory
  lock and a second relay (the beat task while ``relay_events`` runs) skips
  its round; two relays sending side by side would interleave a key's events.
  SQLite has no such lock: run one relay there.
"""
import json
import logging
import threading

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import OutboxEvent

log = logging.getLogger(__name__)

# Added to the payload by the relay; record() refuses payloads that use them.
RESERVED_KEYS = frozenset({"event_id", "topic", "created_at"})

# Any fixed number, unique among the site's advisory locks ("outbox" in ASCII).
RELAY_LOCK_ID = 0x6F7574626F78

BACKOFF_INITIAL = 0.5
BACKOFF_MAX = 30.0

# record() is on the hot path (every add to cart): a hand-written INSERT costs
# about 0.1 ms less than Model.objects.create on PostgreSQL (see docs/events.md).
_INSERT = (
    f'INSERT INTO "{OutboxEvent._meta.db_table}" ("topic", "key", "payload", "created_at") '
    'VALUES (%s, %s, %s, %s) RETURNING "id"'
)
_payload_field = OutboxEvent._meta.get_field("payload")


def record(topic: str, key: str | int, payload: dict) -> int:
    """Append an event to the outbox and return its id.

    Must run inside the transaction that makes the change, after the lock
    that orders changes of ``key`` (the order row, the product's stock rows):
    then ids, and so the published order, follow commit order for each key.
    """
    _check(payload)
    with connection.cursor() as cursor:
        cursor.execute(
            _INSERT,
            [
                topic,
                str(key),
                _payload_field.get_db_prep_value(payload, connection),
                connection.ops.adapt_datetimefield_value(timezone.now()),
            ],
        )
        return cursor.fetchone()[0]


def record_many(topic: str, events) -> int:
    """Append many events of one topic (``(key, payload)`` pairs) in one statement; returns how many.

    For bulk writes (a stock feed of a million rows): the same rows as
    ``record``, in the caller's transaction, after its locks; on PostgreSQL
    through COPY.
    """
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    rows = []
    for key, payload in events:
        _check(payload)
        rows.append((topic, str(key), _payload_field.get_db_prep_value(payload, connection), now))
    if not rows:
        return 0
    table = OutboxEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.copy(f'COPY "{table}" ("topic", "key", "payload", "created_at") FROM STDIN') as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            cursor.executemany(_INSERT.removesuffix(' RETURNING "id"'), rows)
    return len(rows)


def _check(payload: dict) -> None:
    # Outside a transaction the event would commit even if the change it
    # describes then failed, or the change without its event.
    if not connection.in_atomic_block:
        raise transaction.TransactionManagementError(
            "Events must be recorded inside the transaction that makes the change (transaction.atomic())."
        )
    if reserved := RESERVED_KEYS & payload.keys():
        raise ValueError(f"The relay sets {sorted(reserved)} itself; rename these payload keys.")


def prune_published(*, older_than, batch_size: int = 10_000) -> int:
    """Delete events published before ``now - older_than``; unpublished ones are never touched.

    In batches of ``batch_size`` rows, one short transaction each, so the
    relay and the writers never wait long on the pruning.
    """
    cutoff = timezone.now() - older_than
    deleted = 0
    while True:
        ids = list(
            OutboxEvent.objects.filter(published_at__lt=cutoff).order_by("id").values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            return deleted
        deleted += OutboxEvent.objects.filter(pk__in=ids, published_at__lt=cutoff).delete()[0]


def publish_pending(producer, *, batch_size: int = 500) -> int:
    """Send the oldest unpublished events to Kafka and mark them; return how many.

    Any failed send raises before the mark, so the transaction rolls back and
    the whole batch is sent again next time. Returns 0 when another relay holds
    the lock.
    """
    with transaction.atomic():
        if not _take_relay_lock():
            return 0
        batch = list(
            OutboxEvent.objects.filter(published_at__isnull=True)
            .order_by("id")
            .values_list("id", "topic", "key", "payload", "created_at")[:batch_size]
        )
        futures = []
        try:
            for event_id, topic, key, payload, created_at in batch:
                value = {**payload, "event_id": event_id, "topic": topic, "created_at": created_at.isoformat()}
                futures.append(
                    producer.send(
                        f"{settings.KAFKA_TOPIC_PREFIX}{topic}",
                        key=key.encode(),
                        value=json.dumps(value, separators=(",", ":")).encode(),
                        headers=[("event_id", str(event_id).encode())],
                    )
                )
        finally:
            # Waits until every send made has succeeded or failed (bounded by
            # the producer's delivery_timeout_ms), also when one failed part
            # way: nothing stays buffered to go out behind the batch's re-send.
            producer.flush()
        for future in futures:
            future.get()
        OutboxEvent.objects.filter(pk__in=[row[0] for row in batch]).update(published_at=timezone.now())
    return len(batch)


def _take_relay_lock() -> bool:
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        # Released when the relay's transaction ends, however it ends.
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [RELAY_LOCK_ID])
        return cursor.fetchone()[0]


def relay(
    *,
    once: bool = False,
    interval: float = 1.0,
    batch_size: int = 500,
    stop: threading.Event | None = None,
    producer_factory=None,
) -> int:
    """Publish pending events until ``stop`` is set; return how many were published.

    Each round drains the outbox (batches until one comes back short), then
    waits ``interval`` seconds. On a Kafka error the round is retried after a
    back-off (0.5 s doubling to 30 s) with a new producer, as the old one may be
    stuck in an error state; the failed batch simply stays unpublished. With
    ``once``, one round runs and a Kafka error is raised. ``producer_factory``
    defaults to ``make_producer``.
    """
    from .kafka import KafkaError, make_producer  # only the relay needs kafka-python (see .kafka)

    producer_factory = producer_factory or make_producer
    stop = stop or threading.Event()
    producer, backoff, published = None, BACKOFF_INITIAL, 0
    try:
        while True:
            try:
                producer = producer or producer_factory()
                while (count := publish_pending(producer, batch_size=batch_size)) == batch_size:
                    published += count
                published += count
            except KafkaError as error:
                if producer is not None:
                    producer.close()
                    producer = None
                if once:
                    raise
                log.warning("Kafka is unavailable, events stay in the outbox; retrying in %.1f s: %r", backoff, error)
                if stop.wait(backoff):
                    return published
                backoff = min(backoff * 2, BACKOFF_MAX)
                continue
            backoff = BACKOFF_INITIAL
            if once or stop.wait(interval):
                return published
    finally:
        if producer is not None:
            producer.close()

