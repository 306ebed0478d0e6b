"""The database itself refuses impossible stock and prices, whatever code writes them."""
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from catalog.models import Inventory, Product
from tests.factories import InventoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def _refused(queryset, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        queryset.update(**values)


def test_stock_cannot_go_negative():
    row = InventoryFactory(quantity=3)
    _refused(Inventory.objects.filter(pk=row.pk), quantity=-1)
    row.refresh_from_db()
    assert row.quantity == 3


def test_reserved_cannot_exceed_quantity():
    row = InventoryFactory(quantity=3, reserved=1)
    _refused(Inventory.objects.filter(pk=row.pk), reserved=4)
    row.refresh_from_db()
    assert row.reserved == 1


def test_reserved_cannot_go_negative():
    row = InventoryFactory(quantity=3)
    _refused(Inventory.objects.filter(pk=row.pk), reserved=-1)


def test_reserved_may_equal_quantity():
    row = InventoryFactory(quantity=3)
    Inventory.objects.filter(pk=row.pk).update(reserved=3)
    row.refresh_from_db()
    assert (row.quantity, row.reserved) == (3, 3)


def test_price_cannot_be_negative():
    product = ProductFactory()
    _refused(Product.objects.filter(pk=product.pk), price=Decimal("-0.01"))
    product.refresh_from_db()
    assert product.price == Decimal("19.99")


def test_rating_must_be_between_0_and_5():
    product = ProductFactory()
    _refused(Product.objects.filter(pk=product.pk), rating=Decimal("5.1"))
    _refused(Product.objects.filter(pk=product.pk), rating=Decimal("-0.5"))


def test_one_stock_row_per_product_and_warehouse():
    row = InventoryFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Inventory.objects.create(product=row.product, warehouse=row.warehouse, quantity=1)
