"""A reader while the lists are recomputed sees the old list or the new one, never a mix.

Real concurrency: the run and the readers each use their own PostgreSQL
connection (Django's are per thread). The run is held just before it switches
the current run, with all its new rows written, while readers keep reading.
"""
import threading

import pytest
from django.db import connection

from recommendations import selectors, services
from recommendations.models import Recommendation
from tests.factories import CategoryFactory, stocked_product
from tests.recommendations.helpers import place

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL and a second connection"),
]


def test_readers_during_a_recompute_see_the_old_or_the_new_list(settings, monkeypatch):
    # Every read goes to the table: the cache would hide what this test looks at.
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}
    category = CategoryFactory()
    a, b, c, d = (stocked_product(5, category=category) for _ in range(4))
    for basket in ([a, b], [a, b], [a, b], [a, c], [a, c]):
        place(*basket)
    services.compute_recommendations()
    old = [b.pk, c.pk]
    for basket in ([a, c], [a, c], [a, d], [a, d]):
        place(*basket)
    new = [c.pk, b.pk, d.pk]  # co 4, 3, 2 over n(a) 9: a different order and one more entry

    written, go, done = threading.Event(), threading.Event(), threading.Event()
    publish = services._publish
    new_rows = []

    def held_publish(run):
        new_rows.append(Recommendation.objects.filter(run=run).count())
        written.set()
        assert go.wait(timeout=60)
        return publish(run)

    monkeypatch.setattr(services, "_publish", held_publish)
    seen, errors = [], []

    def read_list():
        return [neighbour.product_id for neighbour in selectors.anchors([a.pk])[a.pk].neighbours]

    def recompute():
        try:
            services.compute_recommendations()
        except Exception as error:  # surfaced by the assertions below
            errors.append(error)
        finally:
            done.set()
            connection.close()

    def keep_reading():
        try:
            while not done.is_set():
                seen.append(read_list())
            seen.append(read_list())
        finally:
            connection.close()

    writer = threading.Thread(target=recompute)
    reader = threading.Thread(target=keep_reading)
    writer.start()
    reader.start()
    assert written.wait(timeout=60)
    during = read_list()  # this thread's own connection, while the new rows sit unpublished
    go.set()
    writer.join(timeout=120)
    reader.join(timeout=120)

    assert not errors and not writer.is_alive() and not reader.is_alive()
    assert new_rows[0] > 0
    assert during == old
    assert {tuple(found) for found in seen} <= {tuple(old), tuple(new)}
    assert seen[0] == old and seen[-1] == new
    assert read_list() == new


def test_a_run_is_skipped_while_another_one_holds_the_lock():
    held, release = threading.Event(), threading.Event()

    def other_run():
        try:
            with services._exclusive() as acquired:
                assert acquired
                held.set()
                release.wait(timeout=60)
        finally:
            connection.close()

    thread = threading.Thread(target=other_run)
    thread.start()
    assert held.wait(timeout=60)
    try:
        assert services.compute_recommendations() is None
    finally:
        release.set()
        thread.join(timeout=60)
    assert services.compute_recommendations() is not None
