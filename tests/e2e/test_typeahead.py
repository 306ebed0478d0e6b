"""The header search box's type-ahead in Chromium: a WAI-ARIA combobox, from the keyboard and the mouse."""
import re

import pytest
from playwright.sync_api import expect

from catalog.search.typeahead import refresh_typeahead

from .helpers import seed_catalog
from .test_csp import csp_violations

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def catalog():
    catalog = seed_catalog()
    refresh_typeahead()
    return catalog


def search_box(page):
    return page.get_by_role("combobox", name="Search products")


def test_arrow_down_and_enter_open_the_chosen_product(page, catalog):
    violations = csp_violations(page)
    page.goto("/")
    box = search_box(page)
    expect(box).to_have_attribute("aria-expanded", "false")
    box.press_sequentially("sonic stu", delay=30)

    listbox = page.get_by_role("listbox", name="Search suggestions")
    expect(listbox).to_be_visible()
    expect(box).to_have_attribute("aria-expanded", "true")
    expect(box).to_have_attribute("aria-controls", "search-suggestions")
    options = listbox.get_by_role("option")
    expect(options).to_have_count(1)
    expect(page.locator("#search-suggestions-status")).to_have_text(re.compile(r"^1 suggestion available"))

    box.press("ArrowDown")
    expect(options.first).to_have_attribute("aria-selected", "true")
    expect(box).to_have_attribute("aria-activedescendant", options.first.get_attribute("id"))
    box.press("Enter")
    expect(page).to_have_url(re.compile(re.escape(catalog.products["Sonic Studio Headphones"].get_absolute_url()) + "$"))
    expect(page.get_by_role("heading", name="Sonic Studio Headphones")).to_be_visible()
    assert violations == []


def test_categories_come_first_and_a_click_opens_one(page, catalog):
    page.goto("/")
    search_box(page).press_sequentially("head", delay=30)
    options = page.get_by_role("option")
    expect(options.first).to_have_text(re.compile(r"^Headphones\s+Category$"))
    expect(options).to_have_count(5)  # Headphones, then its four products
    options.first.click()
    expect(page).to_have_url(re.compile(r"/c/headphones/$"))


def test_arrow_keys_to_a_category_then_enter(page, catalog):
    page.goto("/")
    box = search_box(page)
    box.press_sequentially("head", delay=30)
    expect(page.get_by_role("option")).to_have_count(5)
    box.press("ArrowDown")
    box.press("ArrowDown")
    box.press("ArrowUp")
    expect(page.get_by_role("option").first).to_have_attribute("aria-selected", "true")
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/c/headphones/$"))


def test_escape_closes_and_enter_without_a_choice_searches(page, catalog):
    page.goto("/")
    box = search_box(page)
    box.press_sequentially("headph", delay=30)
    listbox = page.get_by_role("listbox", name="Search suggestions")
    expect(listbox).to_be_visible()
    box.press("Escape")
    expect(listbox).to_be_hidden()
    expect(box).to_have_attribute("aria-expanded", "false")
    expect(box).to_have_value("headph")

    box.press("ArrowDown")  # reopens, first option highlighted
    expect(listbox).to_be_visible()
    box.press("ArrowUp")  # back to the box: nothing highlighted
    expect(box).not_to_have_attribute("aria-activedescendant", re.compile(".+"))
    box.press("Enter")
    expect(page).to_have_url(re.compile(r"/search/\?q=headph$"))


def test_without_javascript_the_box_is_a_plain_search_form(browser, live_server):
    context = browser.new_context(base_url=live_server.url, java_script_enabled=False)
    try:
        page = context.new_page()
        page.goto("/")
        box = page.get_by_role("searchbox", name="Search products")
        expect(box).not_to_have_attribute("role", "combobox")
        expect(page.get_by_role("listbox")).to_have_count(0)  # hidden
        box.fill("cable")
        box.press("Enter")
        expect(page).to_have_url(re.compile(r"/search/\?q=cable$"))
    finally:
        context.close()
