"""The outbox: an event exists if and only if the change it describes committed."""
from datetime import timedelta
from datetime import timezone as dt_timezone
from decimal import Decimal

import pytest
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone

from amazon_site.celery import clear_expired_sessions
from amazon_site.events import services, tasks
from amazon_site.events.models import OutboxEvent
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


class Rollback(Exception):
    pass


def test_record_outside_a_transaction_is_refused():
    with pytest.raises(transaction.TransactionManagementError, match="inside the transaction"):
        services.record("orders", 1, {"status": "placed"})
    assert not OutboxEvent.objects.exists()


def test_event_of_a_rolled_back_change_does_not_exist():
    with pytest.raises(Rollback), transaction.atomic():
        services.record("orders", 1, {"status": "placed"})
        services.record("inventory", 7, {"available": 3})
        raise Rollback
    assert not OutboxEvent.objects.exists()


def test_event_of_a_committed_change_exists_unpublished():
    with transaction.atomic():
        event_id = services.record("orders", 42, {"status": "placed", "lines": [{"product_id": 7, "quantity": 2}]})

    event = OutboxEvent.objects.get()
    assert event.pk == event_id
    assert (event.topic, event.key) == ("orders", "42")
    assert event.payload == {"status": "placed", "lines": [{"product_id": 7, "quantity": 2}]}
    assert event.created_at.utcoffset() == dt_timezone.utc.utcoffset(None)
    assert event.published_at is None


def test_decimal_payload_round_trips_as_a_string():
    with transaction.atomic():
        services.record("orders", 1, {"total": Decimal("1234567.89")})
        services.record("inventory", 7, {"price": Decimal("0.10")})

    payloads = list(OutboxEvent.objects.order_by("id").values_list("payload", flat=True))
    assert payloads == [{"total": "1234567.89"}, {"price": "0.10"}]


def test_payload_that_is_not_json_is_refused():
    with pytest.raises(TypeError, match="not JSON serializable"), transaction.atomic():
        services.record("orders", 1, {"placed_by": object()})
    assert not OutboxEvent.objects.exists()


def test_events_of_one_transaction_keep_their_order():
    with transaction.atomic():
        ids = [
            services.record("orders", 1, {"n": 1}),
            services.record("inventory", 7, {"n": 2}),
            services.record("orders", 1, {"n": 3}),
        ]

    assert ids == sorted(ids)
    assert [OutboxEvent.objects.get(pk=pk).payload["n"] for pk in ids] == [1, 2, 3]


def test_payload_keys_the_relay_sets_are_refused():
    with pytest.raises(ValueError, match="event_id"), transaction.atomic():
        services.record("orders", 1, {"event_id": 5})
    assert not OutboxEvent.objects.exists()


def test_without_kafka_events_stay_in_the_outbox(settings):
    settings.KAFKA_BOOTSTRAP_SERVERS = ""
    with transaction.atomic():
        services.record("orders", 1, {})
        services.record("orders", 2, {})

    assert tasks.relay_events() == 0
    with pytest.raises(CommandError, match="KAFKA_BOOTSTRAP_SERVERS is not set.*2 unpublished events"):
        call_command("relay_events", "--once")
    assert OutboxEvent.objects.filter(published_at__isnull=True).count() == 2


def test_staff_see_events_but_cannot_add_change_or_delete(client):
    with transaction.atomic():
        published = services.record("orders", 1, {})
        unpublished = services.record("inventory", 7, {})
    OutboxEvent.objects.filter(pk=published).update(published_at=OutboxEvent.objects.get(pk=published).created_at)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    changelist = "/admin/events/outboxevent/"
    assert client.get(changelist).status_code == 200
    only_unpublished = client.get(changelist, {"published": "no"}).context["cl"].result_list
    assert [event.pk for event in only_unpublished] == [unpublished]
    only_orders = client.get(changelist, {"topic": "orders"}).context["cl"].result_list
    assert [event.pk for event in only_orders] == [published]

    assert client.get(f"{changelist}add/").status_code == 403
    detail = client.get(f"{changelist}{published}/change/")
    assert detail.status_code == 200 and b'name="_save"' not in detail.content
    assert client.post(f"{changelist}{published}/delete/").status_code == 403
    assert OutboxEvent.objects.count() == 2


@pytest.mark.django_db
def test_pruning_deletes_only_events_published_long_enough_ago():
    now = timezone.now()
    old = OutboxEvent.objects.create(topic="orders", key="1", payload={}, published_at=now - timedelta(days=8))
    recent = OutboxEvent.objects.create(topic="orders", key="1", payload={}, published_at=now - timedelta(days=1))
    waiting = OutboxEvent.objects.create(topic="orders", key="1", payload={}, created_at=now - timedelta(days=30))

    assert services.prune_published(older_than=timedelta(days=7), batch_size=1) == 1

    assert set(OutboxEvent.objects.values_list("pk", flat=True)) == {recent.pk, waiting.pk}
    assert not OutboxEvent.objects.filter(pk=old.pk).exists()


@pytest.mark.django_db
def test_the_daily_jobs_are_scheduled_and_clear_expired_sessions(settings):
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"amazon_site.events.tasks.prune_published_events", "amazon_site.clear_expired_sessions"} <= schedule
    Session.objects.create(session_key="gone", session_data="", expire_date=timezone.now() - timedelta(days=1))
    Session.objects.create(session_key="kept", session_data="", expire_date=timezone.now() + timedelta(days=1))

    clear_expired_sessions.delay()

    assert list(Session.objects.values_list("session_key", flat=True)) == ["kept"]
