""""Frequently bought together" in the browser: the section, its one button, and the short-stock message."""
import re

import pytest
from playwright.sync_api import expect

from catalog.models import Inventory
from recommendations import services
from tests.recommendations.helpers import place

from .helpers import cart_link, horizontal_overflow, message, seed_catalog, unnamed_controls

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}


def test_add_all_three_to_cart_and_hear_which_one_ran_out(page, shoot):
    catalog = seed_catalog()
    headphones, cable, travel = (
        catalog.products[title]
        for title in ("Sonic Studio Headphones", "Acme Headphone Extension Cable", "Sonic Travel Headphones")
    )
    for complement, times in ((cable, 3), (travel, 2)):
        for _ in range(times):
            place(headphones, complement)
    services.compute_recommendations()
    violations = []
    page.on("console", lambda note: "Content Security Policy" in note.text and violations.append(note.text))

    page.goto(headphones.get_absolute_url())
    bundle = page.get_by_role("region", name="Frequently bought together")
    expect(bundle.locator(".card-title")).to_have_text([headphones.title, cable.title, travel.title])
    expect(bundle).to_contain_text("Total price: $144.49")
    assert unnamed_controls(page) == []
    shoot(page, "product-bought-together")
    page.set_viewport_size(PHONE)
    assert horizontal_overflow(page, PHONE["width"]) is None
    page.set_viewport_size({"width": 1280, "height": 720})

    # The travel headphones sell out while the page is open: the other two are still added.
    Inventory.objects.filter(product=travel).update(quantity=0)
    bundle.get_by_role("button", name="Add all three to cart").click()

    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(message(page, f"Added 1 × {headphones.title} to your cart.")).to_be_visible()
    expect(message(page, f"Added 1 × {cable.title} to your cart.")).to_be_visible()
    expect(message(page, f"Out of stock — we could not add {travel.title}.")).to_be_visible()
    expect(cart_link(page, 2)).to_be_visible()
    assert violations == []
