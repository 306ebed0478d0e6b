"""The cart and checkout in a browser, on a desktop and on a 375 px phone.

Undo after a removal, quantity 0, "Are you sure?" before emptying the cart or
cancelling an order (site.js's confirm(), and the pages that stand in for it
without JavaScript), the country and state selects, the declined card and the
test card numbers.
"""
import re

import pytest
from playwright.sync_api import expect

from cart.models import CartLine
from orders.models import Address, Order, Status
from tests.factories import UserFactory

from .helpers import (
    GOOD_CARD, add_to_cart, cart_link, fill_card, horizontal_overflow, log_in, message, seed_catalog,
)

PHONE = {"width": 375, "height": 812}
VIEWPORTS = [
    pytest.param("desktop", id="desktop"),
    pytest.param(
        "phone", id="phone",
        marks=pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2),
    ),
]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def named(viewport, name):
    return name if viewport == "desktop" else f"phone-{name}"


def fits(page, viewport):
    if viewport == "phone":
        assert horizontal_overflow(page, PHONE["width"]) is None, horizontal_overflow(page, PHONE["width"])


def go_to_address_step(page, catalog, shopper):
    add_to_cart(page, catalog.products["Hearth Espresso Machine"], 1)
    page.get_by_role("link", name="Proceed to checkout").click()
    log_in(page, shopper)
    expect(page.get_by_role("heading", name="Where should we send your order?")).to_be_visible()


def fill_seattle(page):
    page.get_by_label("Full name").fill("Grace Hopper")
    page.get_by_label("Address line 1").fill("1 Pike Street")
    page.get_by_label("City").fill("Seattle")
    page.get_by_label("Postal code").fill("98101")


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_remove_undo_zero_quantity_and_empty_the_cart(page, shoot, viewport):
    catalog = seed_catalog()
    kettle, cable = catalog.products["Hearth Espresso Machine"], catalog.products["Acme Headphone Extension Cable"]
    add_to_cart(page, kettle, 2)
    add_to_cart(page, cable, 1)
    expect(cart_link(page, 3)).to_be_visible()
    # Each line shows its product's picture (the cards' partial).
    expect(page.locator(".cart-line .cart-item-image .product-image")).to_have_count(2)

    # Remove names the item and offers Undo.
    page.get_by_role("button", name="Remove Hearth Espresso Machine").click()
    note = page.locator(".cart-removed")
    expect(note).to_contain_text("Removed 2 × Hearth Espresso Machine from your cart.")
    expect(cart_link(page, 1)).to_be_visible()
    fits(page, viewport)
    shoot(page, named(viewport, "cart-undo"))
    page.get_by_role("button", name=re.compile(r"^Undo")).click()
    expect(message(page, "Hearth Espresso Machine is back in your cart (2).")).to_be_visible()
    expect(page.get_by_label("Quantity of Hearth Espresso Machine")).to_have_value("2")
    expect(cart_link(page, 3)).to_be_visible()
    expect(note).to_have_count(0)

    # A double click on Undo sends it twice: the item comes back once.
    page.get_by_role("button", name="Remove Hearth Espresso Machine").click()
    expect(cart_link(page, 1)).to_be_visible()
    page.get_by_role("button", name=re.compile(r"^Undo")).dblclick()
    expect(message(page, "back in your cart").first).to_be_visible()
    expect(cart_link(page, 3)).to_be_visible()
    assert CartLine.objects.get(product=kettle).quantity == 2

    # A quantity of 0 removes the line, as Remove does.
    page.get_by_label("Quantity of Acme Headphone Extension Cable").fill("0")
    page.get_by_role("button", name="Update Acme Headphone Extension Cable").click()
    expect(note).to_contain_text("Removed Acme Headphone Extension Cable from your cart.")
    expect(page.get_by_label("Quantity of Acme Headphone Extension Cable")).to_have_count(0)
    expect(cart_link(page, 2)).to_be_visible()

    # Empty cart asks first: "Cancel" keeps everything, OK empties.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Empty cart").click()
    expect(page.get_by_label("Quantity of Hearth Espresso Machine")).to_have_value("2")
    assert CartLine.objects.count() == 1
    asked = []
    page.once("dialog", lambda dialog: (asked.append(dialog.message), dialog.accept()))
    page.get_by_role("button", name="Empty cart").click()
    expect(message(page, "Your cart is empty.")).to_be_visible()
    expect(cart_link(page, 0)).to_be_visible()
    assert asked == ["Remove every item from your cart?"]
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_country_and_state_then_a_declined_card_then_cancel_the_order(page, shoot, viewport):
    catalog = seed_catalog()
    shopper = UserFactory()
    go_to_address_step(page, catalog, shopper)

    region = page.get_by_label("State, province or territory")
    expect(region).to_be_hidden()  # no country chosen yet
    page.get_by_label("Country").select_option("US")
    expect(region).to_be_visible()
    # Only the United States' states are offered.
    expect(region.locator('optgroup[label="United States"]')).to_have_js_property("hidden", False)
    expect(region.locator('optgroup[label="Canada"]')).to_have_js_property("hidden", True)

    # The United States need a state: one clear error, nothing saved, nothing typed lost.
    fill_seattle(page)
    page.get_by_role("button", name="Save and deliver here").click()
    expect(page.get_by_text("Choose the state: addresses in United States need one.")).to_be_visible()
    expect(page.get_by_label("City")).to_have_value("Seattle")
    assert not Address.objects.exists()
    fits(page, viewport)
    shoot(page, named(viewport, "checkout-address"))

    # The United Kingdom has none: the select goes away.
    page.get_by_label("Country").select_option("GB")
    expect(region).to_be_hidden()
    page.get_by_label("Country").select_option("US")
    region.select_option("US-WA")
    page.get_by_role("button", name="Save and deliver here").click()
    expect(page.get_by_role("heading", name="Review your order")).to_be_visible()
    expect(page.locator(".order-address")).to_contain_text("Seattle, WA 98101")
    expect(page.locator(".order-address")).to_contain_text("United States")

    # The test gateway's cards are named on the payment step.
    hint = page.get_by_role("complementary", name="Test cards")
    expect(hint).to_contain_text("4242 4242 4242 4242")
    expect(hint).to_contain_text("4000 0000 0000 0002")

    # A declined card comes back to this page, the address kept, the item reserved again.
    fill_card(page, "4000 0000 0000 0002")
    page.get_by_role("button", name=re.compile(r"^Place your order")).click()
    expect(page).to_have_url(re.compile(r"/checkout/review/$"))
    expect(message(page, "Payment declined: Your card was declined.")).to_be_visible()
    expect(page.locator(".order-address")).to_contain_text("Seattle, WA 98101")
    expect(page.locator(".checkout-main").get_by_role("link", name="Hearth Espresso Machine")).to_be_visible()
    fits(page, viewport)
    shoot(page, named(viewport, "checkout-declined-review"))

    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name=re.compile(r"^Place your order")).click()
    expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
    order = Order.objects.get(user=shopper, status=Status.PAID)
    assert order.shipping_address["region"] == "US-WA"

    # Cancel asks first: "Cancel" on the dialog keeps the order, OK cancels it.
    page.once("dialog", lambda dialog: dialog.dismiss())
    page.get_by_role("button", name="Cancel this order").click()
    expect(page.get_by_role("button", name="Cancel this order")).to_be_visible()
    order.refresh_from_db()
    assert order.status == Status.PAID
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Cancel this order").click()
    expect(message(page, f"Order {order.number} is cancelled.")).to_be_visible()
    order.refresh_from_db()
    assert order.status == Status.CANCELLED


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_without_javascript_the_confirmations_are_pages_and_the_server_checks_the_state(
    browser, browser_context_args, shoot, viewport, request
):
    marker = request.node.get_closest_marker("browser_context_args")
    context = browser.new_context(**{**browser_context_args, **(marker.kwargs if marker else {})}, java_script_enabled=False)
    page = context.new_page()
    try:
        catalog = seed_catalog()
        shopper = UserFactory()
        go_to_address_step(page, catalog, shopper)

        # Every country's states are listed, grouped; the server checks the pair.
        fill_seattle(page)
        page.get_by_label("Country").select_option("CA")
        page.get_by_label("State, province or territory").select_option("US-WA")
        page.get_by_role("button", name="Save and deliver here").click()
        expect(page.get_by_text("Choose a province or territory of Canada from the list.")).to_be_visible()
        page.get_by_label("State, province or territory").select_option("CA-BC")
        page.get_by_label("City").fill("Vancouver")
        page.get_by_label("Postal code").fill("V6B 1A1")
        page.get_by_role("button", name="Save and deliver here").click()
        expect(page.locator(".order-address")).to_contain_text("Vancouver, BC V6B 1A1")

        fill_card(page, GOOD_CARD)
        page.get_by_role("button", name=re.compile(r"^Place your order")).click()
        expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
        order = Order.objects.get(user=shopper)

        # Cancel: the order page's button leads to "Are you sure?".
        page.get_by_role("button", name="Cancel this order").click()
        expect(page.get_by_role("heading", name=f"Cancel order {order.number}?")).to_be_visible()
        expect(page.get_by_text("Are you sure?")).to_be_visible()
        fits(page, viewport)
        shoot(page, named(viewport, "order-cancel-confirm"))
        page.get_by_role("link", name="No, keep my order").click()
        order.refresh_from_db()
        assert order.status == Status.PAID
        page.get_by_role("button", name="Cancel this order").click()
        page.get_by_role("button", name="Yes, cancel this order").click()
        expect(message(page, f"Order {order.number} is cancelled.")).to_be_visible()
        order.refresh_from_db()
        assert order.status == Status.CANCELLED

        # Empty cart: the same.
        add_to_cart(page, catalog.products["Sonic Studio Headphones"], 2)
        page.get_by_role("button", name="Empty cart").click()
        expect(page.get_by_role("heading", name="Empty your cart?")).to_be_visible()
        expect(page.get_by_text("Are you sure? This removes all 2 items")).to_be_visible()
        fits(page, viewport)
        shoot(page, named(viewport, "cart-empty-confirm"))
        page.get_by_role("button", name="Yes, empty my cart").click()
        expect(message(page, "Your cart is empty.")).to_be_visible()
        expect(cart_link(page, 0)).to_be_visible()
    finally:
        context.close()
