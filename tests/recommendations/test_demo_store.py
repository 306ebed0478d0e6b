"""`make run`'s demo store: its first start seeds a catalog and a purchase history and
computes the lists, so every shelf is filled; a restart adds nothing.

The commands are read from the Makefile's `run` recipe and run in its order, on
a small catalog, so these tests follow what a newcomer's first start does.
"""
import re
import shlex
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from cart import services as cart_services
from catalog.models import Product
from catalog.seeding import seed_catalog
from orders.models import Order
from recommendations.models import Run
from tests.factories import PASSWORD, UserFactory, stocked_product
from tests.recommendations.helpers import place

pytestmark = pytest.mark.django_db

MAKEFILE = Path(__file__).resolve().parents[2] / "Makefile"
# The Makefile's sizes, scaled down: about as many orders per product as the demo's.
SMALL = {"DEMO_PRODUCTS": "200", "DEMO_ORDERS": "1400"}
# The test database is migrated already; static files and the server hold no data.
NOT_DATA = {"migrate", "collectstatic", "runserver"}
CARD_LINK = re.compile(r'class="card-link" href="([^"]+)"')


def demo_start() -> str:
    """Run the data commands of `make run`'s recipe with the SMALL sizes; returns what they printed."""
    recipe = MAKEFILE.read_text().split("\nrun: $(VENV)/.installed\n", 1)[1]
    out = StringIO()
    for line in recipe.splitlines():
        if not line.startswith("\t"):
            break
        name, *args = shlex.split(line.strip().removeprefix("$(PY) manage.py "))
        if name not in NOT_DATA:
            args = [re.sub(r"\$\((\w+)\)", lambda variable: SMALL[variable[1]], arg) for arg in args]
            call_command(name, *args, verbosity=0, stdout=out)
    return out.getvalue()


def card_links(html) -> list[str]:
    return list(dict.fromkeys(CARD_LINK.findall(html)))


def shelf_links(response, heading) -> list[str]:
    """Links of the cards on the shelf under ``heading``; none when the page has no such shelf."""
    html = response.content.decode()
    if heading not in html:
        return []
    return card_links(html.split(heading, 1)[1].split("</section>", 1)[0])


def test_the_first_start_fills_the_shelves_of_home_product_and_cart_pages(client):
    demo_start()

    home = client.get("/")
    bestsellers = shelf_links(home, "Bestsellers")
    assert len(bestsellers) == 8
    # Nine in ten of the products a newcomer opens from the home page have a list of their own.
    opened = card_links(home.content.decode())
    filled = [link for link in opened if shelf_links(client.get(link), "Customers who bought this also bought")]
    assert len(filled) >= 0.9 * len(opened)
    assert bestsellers[0] in filled

    shopper = UserFactory()
    client.login(username=shopper.username, password=PASSWORD)
    product_id = int(bestsellers[0].split("/")[2])
    cart_services.add_to_cart(cart_services.get_or_create_cart(user=shopper).pk, product_id, 1)
    assert shelf_links(client.get("/cart/"), "Frequently bought with items in your cart")


def test_a_restart_seeds_nothing_and_computes_nothing():
    demo_start()
    orders, run = Order.objects.count(), Run.objects.get()

    printed = demo_start()

    assert "The catalog already has products; nothing seeded." in printed
    assert "Orders exist; nothing seeded." in printed
    assert f"Recommendations exist (run {run.pk}, from {run.baskets:,} orders); nothing computed." in printed
    assert Order.objects.count() == orders == int(SMALL["DEMO_ORDERS"])
    assert list(Run.objects.all()) == [run]


def test_seed_orders_if_empty_seeds_an_empty_store_only():
    seed_catalog(40, seed=2)

    call_command("seed_orders", orders=30, if_empty=True, verbosity=0)
    out = StringIO()
    call_command("seed_orders", orders=30, if_empty=True, verbosity=0, stdout=out)

    assert Order.objects.count() == 30
    assert out.getvalue() == "Orders exist; nothing seeded.\n"


def test_seed_orders_if_empty_leaves_a_store_with_real_orders_alone():
    seed_catalog(40, seed=2)
    real = place(Product.objects.first())  # a seeded product: the factories' seller names could clash with the seed's

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
