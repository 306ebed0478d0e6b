from datetime import timedelta

import pytest
from django.db.models import Sum
from django.utils import timezone

from cart import services
from cart.models import Reservation
from catalog.models import Inventory
from catalog.selectors import available_stock, product_detail, stock_badge
from tests.factories import (
    CategoryFactory,
    InventoryFactory,
    ProductFactory,
    WarehouseFactory,
    stock_invariant_violations,
    stocked_product,
)


@pytest.mark.parametrize(
    ("available", "label", "level"),
    [
        (0, "Out of stock", "out"),
        (-2, "Out of stock", "out"),
        (1, "Only 1 left", "low"),
        (3, "Only 3 left", "low"),
        (5, "Only 5 left", "low"),
        (6, "In stock", "in"),
        (500, "In stock", "in"),
    ],
)
def test_badge_for_available_units(available, label, level):
    badge = stock_badge(available)
    assert (badge.label, badge.level) == (label, level)
    assert badge.purchasable == (level != "out")


def test_threshold_is_a_setting(settings):
    settings.LOW_STOCK_THRESHOLD = 20
    assert stock_badge(20).label == "Only 20 left"


@pytest.mark.django_db
def test_available_stock_sums_all_warehouses_minus_reservations():
    product = ProductFactory()
    InventoryFactory(product=product, quantity=2, reserved=1)
    InventoryFactory(product=product, quantity=4, reserved=2)
    other = ProductFactory()
    assert available_stock([product.pk, other.pk]) == {product.pk: 3}
    assert product_detail(product.pk).stock_badge.label == "Only 3 left"
    assert product_detail(other.pk).stock_badge.label == "Out of stock"


@pytest.mark.django_db
def test_product_page_shows_the_badge(client):
    product = ProductFactory()
    warehouses = WarehouseFactory.create_batch(2)
    InventoryFactory(product=product, warehouse=warehouses[0], quantity=2)
    InventoryFactory(product=product, warehouse=warehouses[1], quantity=1)
    response = client.get(product.get_absolute_url())
    assert "Only 3 left" in response.content.decode()


@pytest.mark.django_db
def test_holds_that_ran_out_do_not_count_as_held_anywhere(client):
    """Without the beat task a lapsed hold stays in ``reserved``; no page may call that stock taken."""
    product = stocked_product(2, 1, category=CategoryFactory())
    services.add_to_cart(services.get_or_create_cart().pk, product.pk, 3)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))
    assert Inventory.objects.filter(product=product).aggregate(n=Sum("reserved"))["n"] == 3  # nothing released it

    page = client.get(product.get_absolute_url()).content.decode()
    assert "Only 3 left" in page and "Out of stock" not in page
    assert 'action="/cart/add/"' in page
    api = client.get(f"/api/products/{product.pk}/").json()
    assert (api["available"], api["stock"], api["stock_level"]) == (3, "Only 3 left", "low")
    listing = client.get(product.category.get_absolute_url()).content.decode()
    assert "Only 3 left" in listing
    assert [card["available"] for card in client.get("/api/products/").json()["results"]] == [3]

    # And the stock really is for sale: the next shopper's add takes it.
    assert services.add_to_cart(services.get_or_create_cart().pk, product.pk, 3).added == 3
    assert stock_invariant_violations() == []


@pytest.mark.django_db
def test_live_holds_still_count(client):
    product = stocked_product(3)
    services.add_to_cart(services.get_or_create_cart().pk, product.pk, 3)
    assert "Out of stock" in client.get(product.get_absolute_url()).content.decode()
    assert client.get(f"/api/products/{product.pk}/").json()["available"] == 0
