import re
from collections import Counter
from decimal import Decimal

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import connection

from catalog.models import Brand, Category, Inventory, Product, Warehouse
from catalog.seeding import DEPARTMENTS
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
    # A hair dryer has no volume, scent or skin type: a few products have no attributes.
    assert Product.objects.exclude(attributes={}).count() > 0.9 * 400
    for product in Product.objects.select_related("brand", "category__parent"):
        # Books are titled as books; everything else starts with its brand, as marketplaces list them.
        assert (product.category.parent.name == "Books") != product.title.startswith(product.brand.name), product.title


def test_same_seed_gives_the_same_catalog():
    seed(60, seed=3)
    first = list(Product.objects.order_by("pk").values_list("title", "price", "category__slug"))
    Inventory.objects.all().delete()
    Product.objects.all().delete()
    seed(60, seed=3)
    assert list(Product.objects.order_by("pk").values_list("title", "price", "category__slug")) == first
    Inventory.objects.all().delete()
    Product.objects.all().delete()
    seed(60, seed=4)
    assert list(Product.objects.order_by("pk").values_list("title", "price", "category__slug")) != first


def test_if_empty_seeds_only_once():
    call_command("seed_catalog", products=20, if_empty=True, verbosity=0)
    call_command("seed_catalog", products=20, if_empty=True, verbosity=0)
    assert Product.objects.count() == 20


# noun -> (lowest, highest price, its own attribute values), from the seeder's table.
NOUNS = {
    noun: (spec[0], spec[1], spec[2] if len(spec) > 2 else {})
    for _, subcategories, _ in DEPARTMENTS.values()
    for nouns in subcategories.values()
    for noun, spec in nouns.items()
}


def noun_of(product):
    """The seeder's noun a title names (the longest that fits: "Mystery Novel", not "Novel")."""
    nouns = DEPARTMENTS[product.category.parent.name][1][product.category.name]
    return max((noun for noun in nouns if noun in product.title), key=len)


@pytest.fixture
def catalog():
    seed(1500, seed=11)
    return list(Product.objects.select_related("brand", "category__parent"))


def test_titles_never_say_a_word_twice_nor_a_bare_number(catalog):
    for product in catalog:
        words = re.findall(r"[a-z0-9]+", product.title.lower())
        doubled = [word for word, count in Counter(words).items() if count > 1]
        assert not doubled, product.title
        # "Mechanical Pencils, Black, 1" said nothing: a count reads "Pack of 12".
        assert not re.search(r", \d+$", product.title), product.title


def test_prices_are_plausible_for_each_kind_of_product(catalog):
    for product in catalog:
        low, high, _ = NOUNS[noun_of(product)]
        assert low <= product.price < high, (product.title, product.price)
        assert str(product.price).split(".")[1] in {"99", "95", "49", "00"}, product.price
    desks = [product.price for product in catalog if "Standing Desk" in product.title]
    cables = [product.price for product in catalog if product.title.split(",")[0].endswith("Cable")]
    assert desks and min(desks) >= Decimal("199") and cables and max(cables) < Decimal("40")


def test_attributes_fit_the_product(catalog):
    for product in catalog:
        _, _, own = NOUNS[noun_of(product)]
        for key, values in own.items():
            if values:
                assert product.attributes[key] in values, (product.title, product.attributes)
            else:
                assert key not in product.attributes, (product.title, product.attributes)
    cables = [product for product in catalog if product.category.slug == "cables-chargers"]
    assert cables and not any(product.attributes["connectivity"] == "Wi-Fi" for product in cables)


def test_brand_names_start_with_many_letters_and_popularity_is_not_alphabetical(catalog):
    initials = Counter(name[0] for name in Brand.objects.values_list("name", flat=True))
    assert len(initials) >= 18, initials
    assert max(initials.values()) < 0.12 * sum(initials.values()), initials
    # Each department's best sellers are not all "An…": lists sorted by popularity do not look alphabetical.
    for department in DEPARTMENTS:
        products = [product for product in catalog if product.category.parent.name == department]
        top = [name for name, _ in Counter(product.brand.name for product in products).most_common(5)]
        assert len({name[0] for name in top}) >= 3, (department, top)
    assert len({product.brand.name[0] for product in catalog}) >= 18


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the statement timeout is PostgreSQL's")
def test_seeding_through_a_transaction_pooler_is_refused_before_anything_is_written(settings):
    # Its lifted statement timeout would stay on a PgBouncer server connection that web requests get next.
    settings.DATABASE_POOLER = "pgbouncer"
    with pytest.raises(ImproperlyConfigured, match="DATABASE_POOLER unset"):
        seed(10)
    assert not Product.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] != "0"
