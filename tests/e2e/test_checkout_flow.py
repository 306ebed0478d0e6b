"""A shopper's whole journey in a real browser: search, filter, buy, and the declined card."""
import re

import pytest
from playwright.sync_api import expect

from catalog.models import Inventory
from orders.models import Order, Status
from tests.factories import UserFactory

from .helpers import (
    DECLINED_CARD, GOOD_CARD, ORDER_NUMBER, add_to_cart, cart_link, fill_address, fill_card, log_in, message,
    seed_catalog,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def test_search_filter_buy_and_track_the_order(page, shoot):
    catalog = seed_catalog()
    studio = catalog.products["Sonic Studio Headphones"]

    page.goto("/")
    expect(page.get_by_role("heading", name="Everything you need, delivered.")).to_be_visible()
    expect(cart_link(page, 0)).to_be_visible()
    shoot(page, "home")

    # Search from the header, then narrow by brand.
    page.get_by_role("combobox", name="Search products").fill("headphones")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Results for “headphones”")).to_be_visible()
    results = page.locator(".results .product-grid .card")
    expect(results).to_have_count(4)
    filters = page.get_by_role("complementary", name="Filters")
    # The facet's drawn check box ("☐", CSS content) is part of the link's name: match the end.
    filters.get_by_role("link", name=re.compile(r"\bSonic$")).click()
    expect(page).to_have_url(re.compile(r"brand=sonic"))
    expect(filters.get_by_role("link", name=re.compile(r"\bSonic$"))).to_have_attribute("aria-current", "true")
    expect(page.get_by_role("link", name="Remove filter Sonic")).to_be_visible()
    expect(results).to_have_count(2)
    expect(results.filter(has_text="Acme")).to_have_count(0)
    shoot(page, "search")

    # The product page: choose 2 and add them.
    results.get_by_role("link", name=re.compile("Sonic Studio Headphones")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sonic Studio Headphones")
    expect(page.locator(".product-info .badge")).to_have_text("In stock")
    page.get_by_label("Quantity").select_option("2")
    shoot(page, "product")
    page.get_by_role("button", name="Add to cart").click()

    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(message(page, "Added 2 × Sonic Studio Headphones to your cart.")).to_be_visible()
    expect(cart_link(page, 2)).to_be_visible()
    expect(page.get_by_label("Quantity of Sonic Studio Headphones")).to_have_value("2")
    expect(page.locator(".cart-subtotal")).to_have_text("$178.00")
    shoot(page, "cart")

    # Checkout asks a visitor to log in; a new shopper signs up instead and lands back in checkout.
    page.get_by_role("link", name="Proceed to checkout").click()
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_role("link", name="Create an account").click()
    expect(page.get_by_role("heading", name="Create your account")).to_be_visible()
    page.get_by_label("Username").fill("ada")
    page.get_by_label("E-mail address").fill("ada@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill("an analytical engine 1843")
    page.get_by_label("Password confirmation").fill("an analytical engine 1843")
    page.get_by_role("button", name="Create account").click()
    expect(message(page, "Welcome, ada! Your account is ready.")).to_be_visible()
    expect(page.get_by_text("Hello, ada")).to_be_visible()
    expect(cart_link(page, 2)).to_be_visible()  # the visitor's cart became the account's

    fill_address(page)
    review = page.locator(".checkout-main")
    expect(review.get_by_role("link", name="Sonic Studio Headphones")).to_be_visible()
    expect(page.locator(".order-total td").first).to_have_text("$178.00")
    fill_card(page, GOOD_CARD)
    shoot(page, "checkout-review")
    page.get_by_role("button", name="Place your order · $178.00").click()

    # Confirmation.
    expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
    number = page.locator(".order-placed .order-number").inner_text()
    assert ORDER_NUMBER.match(number), number
    expect(page.locator(".order-status").first).to_have_text("Paid")
    expect(cart_link(page, 0)).to_be_visible()
    shoot(page, "confirmation")

    # "Your orders" lists it; its page has the timeline.
    page.get_by_role("link", name="Your orders").click()
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    card = page.locator(".order-card").filter(has_text=number)
    expect(card).to_have_count(1)
    expect(card.locator(".order-status")).to_have_text("Paid")
    expect(card).to_contain_text("$178.00")
    shoot(page, "orders")
    card.get_by_role("link", name=f"View order details of {number}").click()
    expect(page.get_by_role("heading", name=f"Order {number}")).to_be_visible()
    timeline = page.locator(".order-timeline li:not(.order-timeline-upcoming)")
    expect(timeline).to_have_count(2)
    expect(timeline.nth(0)).to_contain_text("Pending payment")
    expect(timeline.nth(0)).to_contain_text("Order placed")
    expect(timeline.nth(1)).to_contain_text("Paid")
    expect(timeline.nth(1)).to_contain_text("ending 4242")
    expect(page.locator(".order-payments")).to_contain_text("ending in 4242")
    shoot(page, "order")

    order = Order.objects.get(number=number)
    assert (order.user.username, order.status, str(order.total)) == ("ada", Status.PAID, "178.00")
    assert Inventory.objects.get(product=studio).quantity == 10  # 12 on the shelf, 2 sold


def test_a_declined_card_returns_to_the_review_with_the_address_and_the_items(page, shoot):
    catalog = seed_catalog()
    kettle = catalog.products["Hearth Espresso Machine"]
    shopper = UserFactory()

    add_to_cart(page, kettle, 1)
    expect(cart_link(page, 1)).to_be_visible()
    page.get_by_role("link", name="Proceed to checkout").click()
    log_in(page, shopper)
    fill_address(page)
    fill_card(page, DECLINED_CARD)
    page.get_by_role("button", name=re.compile(r"^Place your order")).click()

    expect(page).to_have_url(re.compile(r"/checkout/review/$"))
    expect(message(page, "Payment declined: Your card was declined.")).to_be_visible()
    expect(page.locator(".order-address")).to_contain_text("1 Analytical Way")
    expect(page.locator(".checkout-main").get_by_role("link", name="Hearth Espresso Machine")).to_be_visible()
    expect(cart_link(page, 1)).to_be_visible()
    expect(page.get_by_label("Card number")).to_have_value("")  # never echoed back
    shoot(page, "checkout-declined-review")

    order = Order.objects.get(user=shopper)
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, "payment_failed")

    # Another card on the same page places the order.
    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name=re.compile(r"^Place your order")).click()
    expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
