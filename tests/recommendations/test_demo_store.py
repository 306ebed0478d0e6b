"""The flags that let `make run` seed its demo store once: `seed_orders --if-empty`
and `compute_recommendations --if-missing`."""
from io import StringIO

import pytest
from django.core.management import call_command

from catalog.seeding import seed_catalog
from orders.models import Order
from recommendations.models import Run
from tests.factories import stocked_product
from tests.recommendations.helpers import place

pytestmark = pytest.mark.django_db


def test_seed_orders_if_empty_seeds_an_empty_store_only():
    seed_catalog(40, seed=2)

    call_command("seed_orders", orders=30, if_empty=True, verbosity=0)
    out = StringIO()
    call_command("seed_orders", orders=30, if_empty=True, verbosity=0, stdout=out)

    assert Order.objects.count() == 30
    assert out.getvalue() == "Orders exist; nothing seeded.\n"


def test_seed_orders_if_empty_leaves_a_store_with_real_orders_alone():
    seed_catalog(40, seed=2)
    real = place(stocked_product(5))

    call_command("seed_orders", orders=30, if_empty=True, verbosity=0, stdout=StringIO())

    assert list(Order.objects.all()) == [real]


def test_compute_if_missing_computes_until_a_current_run_counted_orders():
    call_command("compute_recommendations", verbosity=0, stdout=StringIO())  # nothing bought yet: empty lists
    first, second = stocked_product(5), stocked_product(5)
    place(first, second)
    place(first, second)

    call_command("compute_recommendations", if_missing=True, verbosity=0, stdout=StringIO())
    current = Run.objects.get(is_current=True)
    out = StringIO()
    call_command("compute_recommendations", if_missing=True, verbosity=0, stdout=out)

    assert current.baskets == 2 and current.products == 2
    assert out.getvalue() == f"Recommendations exist (run {current.pk}, from 2 orders); nothing computed.\n"
    assert Run.objects.count() == 1  # the empty run was replaced, and nothing since
