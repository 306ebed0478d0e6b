"""Every form control has an accessible name, and the main flow works from the keyboard alone."""
import re

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from tests.factories import UserFactory

from .helpers import GOOD_CARD, ORDER_NUMBER, cart_link, log_in, seed_catalog, unnamed_controls

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def focus_ring(locator) -> str:
    """The focused element's outline, as the page's CSS draws it for keyboard focus."""
    return locator.evaluate("(el) => { const s = getComputedStyle(el); return `${s.outlineStyle} ${s.outlineWidth}`; }")


def tab_to(page, locator, max_presses=15):
    """Press Tab until ``locator`` has the focus: it is reachable in the tab order."""
    for _ in range(max_presses):
        page.keyboard.press("Tab")
        if locator.evaluate("(el) => el === document.activeElement"):
            return
    raise AssertionError(f"{locator} not reached with {max_presses} presses of Tab on {page.url}")


def test_named_controls_and_keyboard_checkout(page):
    seed_catalog()
    shopper = UserFactory()
    unnamed = []

    # Home: the skip link comes first, then the search box; Enter searches.
    page.goto("/")
    unnamed += unnamed_controls(page)
    page.keyboard.press("Tab")
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    search_box = page.get_by_role("combobox", name="Search products")
    tab_to(page, search_box)
    assert focus_ring(search_box).startswith("solid"), "the search box shows no focus ring"
    page.keyboard.type("headphones")
    page.keyboard.press("Enter")

    # Search with its facets.
    expect(page.get_by_role("heading", name="Results for “headphones”")).to_be_visible()
    expect(page.get_by_role("complementary", name="Filters")).to_be_visible()
    unnamed += unnamed_controls(page)
    studio = page.get_by_role("link", name=re.compile("Sonic Studio Headphones"))
    studio.focus()
    page.keyboard.press("Enter")

    # Product: pick the quantity with the arrow keys, Tab to the button, Enter.
    expect(page.get_by_role("heading", level=1)).to_have_text("Sonic Studio Headphones")
    unnamed += unnamed_controls(page)
    quantity = page.get_by_label("Quantity")
    quantity.focus()
    page.keyboard.press("ArrowDown")
    expect(quantity).to_have_value("2")
    add = page.get_by_role("button", name="Add to cart")
    tab_to(page, add, max_presses=1)
    assert focus_ring(add).startswith("solid"), "the Add to cart button shows no focus ring"
    page.keyboard.press("Enter")

    # Cart: type a new quantity and press Enter.
    line_quantity = page.get_by_label("Quantity of Sonic Studio Headphones")
    expect(line_quantity).to_have_value("2")
    unnamed += unnamed_controls(page)
    line_quantity.focus()
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Updated Sonic Studio Headphones: 3 in your cart.")).to_be_visible()
    expect(cart_link(page, 3)).to_be_visible()
    page.get_by_role("link", name="Proceed to checkout").focus()
    page.keyboard.press("Enter")
    log_in(page, shopper)

    # Address: typed field after field with Tab, sent with Enter.
    expect(page.get_by_role("heading", name="Where should we send your order?")).to_be_visible()
    unnamed += unnamed_controls(page)
    page.get_by_label("Full name").focus()
    for value in ("Ada Lovelace", "1 Analytical Way", "", "London", "N1 9GU"):
        page.keyboard.type(value)
        page.keyboard.press("Tab")
    page.keyboard.type("United Kingdom")  # the country select's type-ahead
    expect(page.get_by_label("Country")).to_have_value("GB")
    page.keyboard.press("Tab")  # past the state select, hidden for a country without states
    expect(page.get_by_label("Phone")).to_be_focused()
    page.keyboard.press("Enter")

    # Review and pay: the card form from the keyboard.
    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    unnamed += unnamed_controls(page)
    page.get_by_label("Card number").focus()
    page.keyboard.type(GOOD_CARD)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Expiry month")).to_be_focused()
    page.keyboard.press("End")  # the last month, 12
    page.keyboard.press("Tab")
    expect(page.get_by_label("Expiry year")).to_be_focused()
    page.keyboard.press("ArrowDown")  # from this year to the next
    page.keyboard.press("Tab")
    expect(page.get_by_label("Security code (CVC)")).to_be_focused()
    page.keyboard.type("123")
    expect(page.get_by_label("Expiry month")).to_have_value("12")
    expect(page.get_by_label("Expiry year")).to_have_value(str(timezone.localdate().year + 1))
    page.keyboard.press("Enter")

    expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
    assert ORDER_NUMBER.match(page.locator(".order-placed .order-number").inner_text())

    assert not unnamed, "controls without an accessible name:\n" + "\n".join(unnamed)


def test_log_in_and_sign_up_forms_are_labelled(page):
    unnamed = []
    for url in ("/accounts/login/", "/accounts/signup/"):
        page.goto(url)
        expect(page.locator("main form")).to_be_visible()
        unnamed += unnamed_controls(page)
    assert not unnamed, "controls without an accessible name:\n" + "\n".join(unnamed)
