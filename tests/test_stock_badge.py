import pytest

from catalog.selectors import available_stock, product_detail, stock_badge
from tests.factories import InventoryFactory, ProductFactory, WarehouseFactory


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
