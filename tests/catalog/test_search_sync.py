"""The database keeps search data current on every write path (triggers)."""
from decimal import Decimal

import pytest

from catalog.models import Inventory, Product
from catalog.services import set_products_active
from catalog.search import SearchRequest, search
from catalog.tasks import remove_from_search_index, sync_search_index
from tests.factories import BrandFactory, InventoryFactory, ProductFactory

pytestmark = pytest.mark.django_db


def found(q, **params):
    return search(SearchRequest.from_params({"q": q, **params})).ids


def test_new_and_edited_titles_are_searchable_at_once():
    product = ProductFactory(title="Copper Kettle")
    assert found("kettle") == [product.pk]
    Product.objects.filter(pk=product.pk).update(title="Copper Teapot")
    assert found("kettle") == []
    assert found("teapot") == [product.pk]


def test_renamed_brand_is_searchable_at_once():
    brand = BrandFactory(name="Oldname")
    product = ProductFactory(title="Steel Pan", brand=brand)
    brand.name = "Newname"
    brand.save()
    assert found("newname") == [product.pk]
    assert found("oldname") == []


def test_in_stock_follows_every_stock_change():
    product = ProductFactory(title="Lamp", price=Decimal("10"))
    assert not Product.objects.get(pk=product.pk).in_stock  # no stock rows yet
    row = InventoryFactory(product=product, quantity=2)
    assert Product.objects.get(pk=product.pk).in_stock
    Inventory.objects.filter(pk=row.pk).update(reserved=2)  # every unit held by carts
    assert not Product.objects.get(pk=product.pk).in_stock
    assert found("lamp", in_stock="1") == []
    Inventory.objects.filter(pk=row.pk).update(quantity=5)
    assert found("lamp", in_stock="1") == [product.pk]
    Inventory.objects.filter(pk=row.pk).delete()
    assert not Product.objects.get(pk=product.pk).in_stock


def test_deleted_products_leave_the_index():
    product = ProductFactory(title="Ephemeral Vase")
    product.delete()
    assert found("vase") == []


def test_deactivated_products_leave_search_and_come_back():
    product = ProductFactory(title="Walnut Bookshelf")
    set_products_active([product.pk], active=False)
    assert found("bookshelf") == []
    set_products_active([product.pk], active=True)
    assert found("bookshelf") == [product.pk]


def test_price_changes_reach_search_filters():
    product = ProductFactory(title="Oak Chair", price=Decimal("20.00"))
    assert found("chair", price="lt25") == [product.pk]
    Product.objects.filter(pk=product.pk).update(price=Decimal("60.00"))
    assert found("chair", price="lt25") == []
    assert found("chair", price="50-100") == [product.pk]


def test_without_elasticsearch_the_index_tasks_do_nothing(settings):
    """Only Elasticsearch has an index to send changes to; the triggers keep the database current."""
    settings.ELASTICSEARCH_URL = ""
    product = ProductFactory(title="Quiet Clock")

    assert sync_search_index() == 0
    remove_from_search_index([product.pk])  # a deletion queued while Elasticsearch was still configured
    assert found("clock") == [product.pk]
