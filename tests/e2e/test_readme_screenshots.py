"""The README's screenshots, taken in Chromium on the demo store ``make run`` seeds.

``make screenshots`` runs this with README_SCREENSHOTS=1 and copies
``test-artifacts/screenshots/readme-{home,search,product,cart}.png`` to
``docs/screenshots/``. Skipped otherwise: seeding the demo store (3,000
products, 20,000 orders, the recommendation lists) takes minutes, too long for
every run of the suite, and the pictures change only when the pages do.
"""
import os
import re

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from .helpers import cart_link

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(os.environ.get("README_SCREENSHOTS") != "1", reason="the README's screenshots: make screenshots"),
]

# The Makefile's numbers, which `make screenshots` passes on: the store a newcomer sees.
DEMO_PRODUCTS = int(os.environ.get("DEMO_PRODUCTS", "3000"))
DEMO_ORDERS = int(os.environ.get("DEMO_ORDERS", "20000"))


def shoot_loaded(page, shoot, name):
    """The whole page once every picture has loaded: lazy ones load only when scrolled to."""
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    page.wait_for_function("() => [...document.images].every((image) => image.complete && image.naturalWidth > 0)")
    page.evaluate("window.scrollTo(0, 0)")
    shoot(page, name)


def test_the_readme_screenshots_of_the_demo_store(page, shoot):
    call_command("seed_catalog", products=DEMO_PRODUCTS, verbosity=0)
    call_command("seed_orders", orders=DEMO_ORDERS, verbosity=0)
    call_command("compute_recommendations", verbosity=0)

    page.goto("/")
    expect(page.get_by_role("heading", name="Everything you need, delivered.")).to_be_visible()
    shoot_loaded(page, shoot, "readme-home")

    # A search narrowed by a colour: the facets at work.
    page.get_by_role("combobox", name="Search products").fill("headphones")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Results for “headphones”")).to_be_visible()
    cards = page.locator(".results .product-grid .card")
    expect(cards.nth(1)).to_be_visible()
    products = [cards.nth(position).locator("a").first.get_attribute("href") for position in (0, 1)]
    filters = page.get_by_role("complementary", name="Filters")
    filters.locator(".facet", has=page.get_by_role("heading", name="Color")).get_by_role("link").first.click()
    expect(page.get_by_role("link", name=re.compile(r"^Remove filter "))).to_be_visible()
    shoot_loaded(page, shoot, "readme-search")

    # Two of the first result and one of the second in the cart.
    for url, quantity in zip(products, (2, 1)):
        page.goto(url)
        if quantity == 2:  # the first result's page: its ratings, reviews and shelves
            shoot_loaded(page, shoot, "readme-product")
        page.get_by_label("Quantity").select_option(str(quantity))
        page.get_by_role("button", name="Add to cart").click()
        expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(cart_link(page, 3)).to_be_visible()
    shoot_loaded(page, shoot, "readme-cart")
