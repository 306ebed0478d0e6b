"""Without a broker there is no beat: requests release expired holds, so search's "in stock" catches up too."""
from datetime import timedelta

import pytest
from django.core.exceptions import MiddlewareNotUsed
from django.utils import timezone

from cart import services
from cart.middleware import ReleaseExpiredReservationsMiddleware
from cart.models import Reservation
from catalog.models import Product
from tests.factories import CategoryFactory, stock_invariant_violations, stocked_product
from tests.settings import EMBEDDED_EXPIRY

pytestmark = pytest.mark.django_db


@pytest.fixture
def embedded_expiry(settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, EMBEDDED_EXPIRY]


def in_stock_results(client):
    return client.get("/search/", {"q": "lantern", "in_stock": "1"}).content.decode()


def test_a_request_releases_holds_that_ran_out_so_the_in_stock_filter_finds_the_product(client, embedded_expiry):
    product = stocked_product(2, title="Storm Lantern", category=CategoryFactory())
    services.add_to_cart(services.get_or_create_cart().pk, product.pk, 2)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))
    assert not Product.objects.get(pk=product.pk).in_stock  # the trigger-kept column still counts the lapsed hold

    client.get("/")  # any request: the release runs after its response

    assert not Reservation.objects.exists()
    assert Product.objects.get(pk=product.pk).in_stock
    assert "Storm Lantern" in in_stock_results(client)
    assert stock_invariant_violations() == []


def test_it_runs_at_most_once_a_period(client, embedded_expiry):
    client.get("/")  # this period's release
    product = stocked_product(1, title="Storm Lantern", category=CategoryFactory())
    services.add_to_cart(services.get_or_create_cart().pk, product.pk, 1)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))

    client.get("/")
    assert Reservation.objects.count() == 1  # left for the next period (or the next add of the product)


def test_with_a_broker_beat_releases_them_and_requests_do_not(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    with pytest.raises(MiddlewareNotUsed):
        ReleaseExpiredReservationsMiddleware(lambda request: None)
