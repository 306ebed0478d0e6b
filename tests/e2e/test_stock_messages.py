"""What the product page and the cart say when stock is short."""
import re

import pytest
from playwright.sync_api import expect

from catalog.models import Inventory

from .helpers import cart_link, message, seed_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_sold_out_and_short_stock(page, shoot):
    catalog = seed_catalog(extra=[("Hearth Sold Out Teapot", 0), ("Hearth Rare Vase", 2), ("Hearth Last Lamp", 1)])

    # Sold out: the page says so and offers no way to add it.
    page.goto(catalog.products["Hearth Sold Out Teapot"].get_absolute_url())
    expect(page.locator(".product-info .badge")).to_have_text("Out of stock")
    expect(page.get_by_role("button", name="Add to cart")).to_have_count(0)
    expect(page.get_by_label("Quantity")).to_have_count(0)
    shoot(page, "product-out-of-stock")

    # Two left, so the page offers two; one sells while it is open: one is added, and the shopper is told.
    vase = catalog.products["Hearth Rare Vase"]
    page.goto(vase.get_absolute_url())
    expect(page.locator(".product-info .badge")).to_have_text("Only 2 left")
    assert page.get_by_label("Quantity").locator("option").all_inner_texts() == ["1", "2"]
    page.get_by_label("Quantity").select_option("2")
    Inventory.objects.filter(product=vase).update(quantity=1)
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(message(page, "Only 1 left — we added 1")).to_be_visible()
    expect(page.get_by_label("Quantity of Hearth Rare Vase")).to_have_value("1")
    expect(cart_link(page, 1)).to_be_visible()

    # The last one goes to someone else while the page is open: the add says "Out of stock".
    lamp = catalog.products["Hearth Last Lamp"]
    page.goto(lamp.get_absolute_url())
    expect(page.get_by_role("button", name="Add to cart")).to_be_visible()
    Inventory.objects.filter(product=lamp).update(quantity=0)
    page.get_by_role("button", name="Add to cart").click()
    expect(page).to_have_url(re.compile(re.escape(lamp.get_absolute_url()) + "$"))
    expect(message(page, "Out of stock")).to_be_visible()
    expect(cart_link(page, 1)).to_be_visible()
