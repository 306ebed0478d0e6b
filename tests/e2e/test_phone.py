"""The pages on a phone-sized screen (375×812): nothing may scroll sideways."""
import re

import pytest
from playwright.sync_api import expect

from tests.factories import UserFactory

from .helpers import GOOD_CARD, add_to_cart, fill_address, fill_card, horizontal_overflow, log_in, seed_catalog

PHONE = {"width": 375, "height": 812}

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2),
]


def open_home(page, catalog):
    page.goto("/")
    expect(page.get_by_role("heading", name="Everything you need, delivered.")).to_be_visible()


def open_search(page, catalog):
    page.goto("/search/?q=headphones")
    expect(page.locator(".results .card")).to_have_count(4)


def open_product(page, catalog):
    page.goto(catalog.products["Sonic Studio Headphones"].get_absolute_url())
    expect(page.get_by_role("button", name="Add to cart")).to_be_visible()


def open_cart(page, catalog):
    add_to_cart(page, catalog.products["Sonic Studio Headphones"], 2)
    expect(page.get_by_label("Quantity of Sonic Studio Headphones")).to_have_value("2")


def open_checkout_review(page, catalog):
    open_cart(page, catalog)
    page.get_by_role("link", name="Proceed to checkout").click()
    log_in(page, UserFactory())
    fill_address(page)


def open_confirmation(page, catalog):
    open_checkout_review(page, catalog)
    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name=re.compile(r"^Place your order")).click()
    expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()


OPEN = {
    "home": open_home,
    "search": open_search,
    "product": open_product,
    "cart": open_cart,
    "checkout-review": open_checkout_review,
    "confirmation": open_confirmation,
}


@pytest.mark.parametrize("name", OPEN)
def test_page_fits_a_phone_screen(page, shoot, name):
    OPEN[name](page, seed_catalog())
    shoot(page, f"phone-{name}")
    overflow = horizontal_overflow(page, PHONE["width"])
    assert overflow is None, f"{page.url} is wider than the {PHONE['width']}px screen: {overflow}"
