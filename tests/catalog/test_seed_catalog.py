import pytest
from django.core.management import call_command

from catalog.models import Brand, Category, Inventory, Product, Warehouse
from catalog.selectors import available_stock

pytestmark = pytest.mark.django_db


def seed(products, seed=7):
    call_command("seed_catalog", products=products, seed=seed, batch_size=50, verbosity=0)


def test_seed_builds_a_realistic_catalog():
    seed(400)
    assert Product.objects.count() == 400
    assert 40 <= Category.objects.count() <= 60
    assert Category.objects.filter(parent=None).count() >= 5
    assert Warehouse.objects.count() == 3
    assert Brand.objects.count() >= 400
    # Every product has stock rows; some products are sold out, most are not.
    assert not Product.objects.exclude(pk__in=Inventory.objects.values("product_id")).exists()
    stock = available_stock(Product.objects.values_list("pk", flat=True))
    sold_out = sum(1 for units in stock.values() if units == 0)
    assert 0 < sold_out < 100
    prices = sorted(Product.objects.values_list("price", flat=True))
    assert prices[0] >= 0 and prices[-1] > 5 * prices[len(prices) // 2]  # a long-tailed price spread
    product = Product.objects.select_related("brand").first()
    assert product.title.startswith(product.brand.name) and product.attributes


def test_same_seed_gives_the_same_catalog():
    seed(60, seed=3)
    first = list(Product.objects.order_by("pk").values_list("title", "price", "category__slug"))
    Inventory.objects.all().delete()
    Product.objects.all().delete()
    seed(60, seed=3)
    assert list(Product.objects.order_by("pk").values_list("title", "price", "category__slug")) == first


def test_if_empty_seeds_only_once():
    call_command("seed_catalog", products=20, if_empty=True, verbosity=0)
    call_command("seed_catalog", products=20, if_empty=True, verbosity=0)
    assert Product.objects.count() == 20
