"""Listing pages in a real browser, on a desktop and on a phone: a numbered pager
that keeps the shopper's filters, and filters that wait behind a toggle on a phone."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalog.search.suggestions import refresh_search_terms
from tests.factories import BrandFactory, InventoryFactory, ProductFactory, category_tree

from .helpers import horizontal_overflow

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=sorted(SCREENS))
def screen(request, new_context):
    """(name, page) for each screen size."""
    context = new_context(**SCREENS[request.param])
    context.set_default_timeout(15_000)
    return request.param, context.new_page()


def screenshot_name(size, name):
    return name if size == "desktop" else f"phone-{name}"


@pytest.fixture
def headphones(settings):
    """30 Acme and 6 Sonic headphones, 4 a page and at most 5 pages: the pager has more than it shows."""
    settings.CATALOG_PAGE_SIZE = 4
    settings.CATALOG_MAX_PAGES = 5
    category = category_tree()["headphones"]
    brands = {"Acme": BrandFactory(name="Acme", slug="acme"), "Sonic": BrandFactory(name="Sonic", slug="sonic")}
    for number in range(36):
        brand = "Acme" if number < 30 else "Sonic"
        product = ProductFactory(
            title=f"{brand} Studio Headphones {number + 1}", category=category, brand=brands[brand],
            price=Decimal(20 + number), rating=Decimal("4.5"), review_count=10, attributes={"color": "Black"},
        )
        InventoryFactory(product=product, quantity=5)
    refresh_search_terms()


def pager(page):
    return page.get_by_role("navigation", name="Pages")


def prices(page):
    return [Decimal(text.strip("$")) for text in page.locator(".results .card .price").all_inner_texts()]


def test_the_numbered_pager_keeps_the_filters(screen, headphones, shoot):
    size, page = screen
    page.goto("/c/headphones/?brand=acme&sort=price")
    expect(pager(page).get_by_role("link", name="Page 1", exact=True)).to_have_attribute("aria-current", "page")
    expect(pager(page).get_by_role("link", name="Page 5", exact=True)).to_be_visible()  # the last within the cap
    expect(pager(page).get_by_role("link", name="Page 3", exact=True)).to_have_count(0)  # skipped: "…"
    expect(pager(page).get_by_text("…")).to_be_visible()
    first_page = prices(page)

    pager(page).get_by_role("link", name="Page 2", exact=True).click()
    expect(page).to_have_url(re.compile(r"/c/headphones/\?brand=acme&sort=price&page=2$"))
    expect(pager(page).locator('[aria-current="page"]')).to_have_text("2")
    expect(page.locator(".results .card .card-brand")).to_have_text(["Acme"] * 4)
    assert prices(page)[0] > first_page[-1]  # the next four of the same order
    assert horizontal_overflow(page, SCREENS[size]["viewport"]["width"]) is None
    shoot(page, screenshot_name(size, "pager"))

    pager(page).get_by_role("link", name="Page 5", exact=True).click()
    expect(pager(page).locator('[aria-current="page"]')).to_have_text("5")
    expect(pager(page).get_by_role("link", name="Next")).to_have_count(0)
    expect(page.get_by_text("That is as far as browsing goes")).to_be_visible()

    page.goto("/search/?q=headphones&brand=sonic")  # 6 Sonic: two pages
    pager(page).get_by_role("link", name="Page 2", exact=True).click()
    expect(page).to_have_url(re.compile(r"/search/\?q=headphones&brand=sonic&page=2$"))
    expect(page.locator(".results .card .card-brand")).to_have_text(["Sonic"] * 2)


def test_a_phone_shows_results_first_and_the_filters_behind_a_toggle(screen, headphones, shoot):
    size, page = screen
    page.goto("/search/?q=headphones")
    filters = page.get_by_role("complementary", name="Filters")
    toggle = page.locator("summary.filters-toggle")
    first_card = page.locator(".results .card").first

    if size == "desktop":  # unchanged: the sidebar, no toggle
        expect(filters).to_be_visible()
        expect(toggle).to_be_hidden()
        shoot(page, "filters")
    else:
        expect(toggle).to_be_visible()
        expect(filters).to_be_hidden()
        expect(first_card).to_be_in_viewport()
        assert first_card.bounding_box()["y"] < SCREENS[size]["viewport"]["height"] / 2
        shoot(page, "phone-filters")
        toggle.click()
        expect(filters).to_be_visible()
        assert horizontal_overflow(page, SCREENS[size]["viewport"]["width"]) is None
        shoot(page, "phone-filters-open")

    filters.get_by_role("link", name=re.compile(r"\bSonic$")).click()
    expect(page).to_have_url(re.compile(r"brand=sonic"))
    expect(page.locator(".results .card .card-brand")).to_have_text(["Sonic"] * 4)
    if size == "desktop":
        expect(filters).to_be_visible()
    else:  # a new page of results: the filters fold away again and say what is chosen
        expect(filters).to_be_hidden()
        expect(toggle).to_have_text("Filters (1 selected)")
