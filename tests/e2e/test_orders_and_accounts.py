"""Order history and tracking, log-in and sign-up, the favicon and the 404 page, at desktop width and on a phone."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import OrderEvent, Status
from tests.factories import OrderFactory, OrderItemFactory, UserFactory

from .helpers import cart_link, horizontal_overflow, log_in, message, seed_catalog

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
SCREENS = [
    pytest.param("", id="desktop"),
    pytest.param(
        "phone-",
        id="phone",
        marks=pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2),
    ),
]
MUTED = "rgb(86, 89, 89)"  # --muted in css/site.css


def fits(page, prefix):
    if prefix:
        overflow = horizontal_overflow(page, PHONE["width"])
        assert overflow is None, f"{page.url} is wider than the {PHONE['width']}px screen: {overflow}"


def order_of(user, status, lines, *, days_ago=0):
    """An order already in ``status`` with its timeline so far: (product, quantity) lines."""
    placed = timezone.now() - timedelta(days=days_ago)
    order = OrderFactory(user=user, status=status, created_at=placed)
    for product, quantity in lines:
        OrderItemFactory(order=order, product=product, title=product.title, quantity=quantity)
    steps = [(Status.PENDING, "", "Order placed"), (Status.PAID, "", "Charged Visa ending 4242")]
    if status == Status.CANCELLED:
        steps.append((Status.CANCELLED, "", "Cancelled by the customer"))
    for minutes, (to_status, title, note) in enumerate(steps):
        OrderEvent.objects.create(
            order=order, to_status=to_status, title=title, note=note, created_at=placed + timedelta(minutes=minutes)
        )
    return order


def sign_in(page, user, next_path):
    page.goto(f"/accounts/login/?next={next_path}")
    log_in(page, user)


@pytest.mark.parametrize("prefix", SCREENS)
def test_the_order_history_lists_each_orders_items(page, shoot, prefix):
    products = seed_catalog().products
    user = UserFactory()
    older = order_of(user, Status.DELIVERED, [(products["Hearth Espresso Machine"], 1)], days_ago=9)
    newer = order_of(
        user, Status.PAID, [(products["Sonic Studio Headphones"], 2), (products["Acme Headphone Extension Cable"], 3)]
    )

    sign_in(page, user, "/orders/")
    expect(page.get_by_role("heading", name="Your orders")).to_be_visible()
    cards = page.locator(".order-card")
    expect(cards).to_have_count(2)
    first = page.get_by_role("list", name=f"Items of order {newer.number}")
    expect(first.get_by_role("listitem")).to_have_count(2)
    studio = first.get_by_role("listitem").filter(has_text="Sonic Studio Headphones")
    expect(studio).to_contain_text("Qty 2")
    picture = studio.get_by_role("img", name="Sonic Studio Headphones")
    expect(picture).to_be_visible()
    expect(picture).to_have_js_property("complete", True)
    expect(first.get_by_role("listitem").filter(has_text="Acme Headphone Extension Cable")).to_contain_text("Qty 3")
    second = page.get_by_role("list", name=f"Items of order {older.number}")
    expect(second.get_by_role("listitem")).to_have_text([re.compile(r"Hearth Espresso Machine\s+Qty 1")])
    shoot(page, f"{prefix}orders-items")
    fits(page, prefix)

    # An item's title leads to its product.
    studio.get_by_role("link", name="Sonic Studio Headphones").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Sonic Studio Headphones")


@pytest.mark.parametrize("prefix", SCREENS)
def test_the_tracking_timeline_greys_out_the_steps_ahead(page, shoot, prefix):
    products = seed_catalog().products
    user = UserFactory()
    paid = order_of(user, Status.PAID, [(products["Sonic Studio Headphones"], 1)])
    cancelled = order_of(user, Status.CANCELLED, [(products["Hearth Espresso Machine"], 1)], days_ago=1)

    sign_in(page, user, f"/orders/{paid.number}/")
    timeline = page.locator(".order-timeline")
    expect(timeline.locator("li")).to_have_count(5)
    done, upcoming = timeline.locator("li:not(.order-timeline-upcoming)"), timeline.locator("li.order-timeline-upcoming")
    expect(done.locator("strong")).to_have_text(["Pending payment", "Paid"])
    expect(upcoming.locator("strong")).to_have_text(["Packed", "Shipped", "Delivered"])
    expect(upcoming.first).to_contain_text("Upcoming")
    expect(upcoming.first).to_have_css("color", MUTED)
    expect(done.first).not_to_have_css("color", MUTED)
    timeline.scroll_into_view_if_needed()
    shoot(page, f"{prefix}order-timeline")
    fits(page, prefix)

    # A cancelled order goes nowhere from here: nothing is upcoming.
    page.goto(f"/orders/{cancelled.number}/")
    expect(timeline.locator("li strong")).to_have_text(["Pending payment", "Paid", "Cancelled"])
    expect(timeline.locator("li.order-timeline-upcoming")).to_have_count(0)


@pytest.mark.parametrize("prefix", SCREENS)
def test_log_in_keeps_one_next_and_log_out_says_so(page, shoot, prefix):
    seed_catalog()
    user = UserFactory()
    page.goto("/cart/")
    header_log_in = page.get_by_role("navigation", name="Account").get_by_role("link", name="Log in")
    header_log_in.click()
    expect(page).to_have_url(re.compile(r"/accounts/login/\?next=/cart/$"))
    # On the log-in page the header's link keeps that next=, not one inside another.
    expect(header_log_in).to_have_attribute("href", "/accounts/login/?next=/cart/")
    log_in(page, user)
    expect(page).to_have_url(re.compile(r"/cart/$"))
    expect(page.get_by_text(f"Hello, {user.username}")).to_be_visible()

    page.get_by_role("button", name="Log out").click()
    expect(message(page, "You are logged out.")).to_be_visible()
    expect(header_log_in).to_be_visible()
    expect(cart_link(page, 0)).to_be_visible()
    shoot(page, f"{prefix}logged-out")
    fits(page, prefix)


@pytest.mark.parametrize("prefix", SCREENS)
def test_sign_up_shows_password_errors_under_the_password(page, shoot, prefix):
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("E-mail address").fill("ada@example.com")
    password = page.get_by_label(re.compile(r"^Password:?$"))
    password.fill("ada")
    page.get_by_label("Password confirmation").fill("ada")
    page.get_by_role("button", name="Create account").click()

    error = page.locator("#id_password1_error")
    expect(error).to_contain_text("This password is too short.")
    expect(password).to_have_attribute("aria-invalid", "true")
    below, above = password.bounding_box(), page.get_by_label("Password confirmation").bounding_box()
    box = error.bounding_box()
    assert below["y"] + below["height"] <= box["y"] < above["y"], (below, box, above)
    error.scroll_into_view_if_needed()
    shoot(page, f"{prefix}signup-errors")
    fits(page, prefix)


@pytest.mark.parametrize("prefix", SCREENS)
def test_the_favicon_loads_and_a_missing_page_is_the_stores(page, settings, shoot, prefix):
    violations = []
    page.on("console", lambda note: "Content Security Policy" in note.text and violations.append(note.text))
    page.goto("/")
    icon = page.locator("link[rel=icon]").get_attribute("href")
    answer = page.request.get(icon)
    assert answer.status == 200 and answer.headers["content-type"].startswith("image/svg+xml")
    assert page.request.get("/favicon.ico").status == 200  # redirected to the SVG

    settings.DEBUG = True  # what `make run` shows: not Django's technical page
    response = page.goto("/no-such-page/")
    assert response.status == 404
    expect(page.get_by_role("heading", name="We couldn’t find that page")).to_be_visible()
    expect(page.get_by_role("link", name="Back to the store")).to_be_visible()
    expect(page.get_by_role("search")).to_be_visible()  # the site's header, styled
    expect(page.locator(".site-header")).to_have_css("background-color", "rgb(19, 25, 33)")
    shoot(page, f"{prefix}not-found")
    fits(page, prefix)
    assert violations == []
