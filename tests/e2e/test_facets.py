"""Attribute facets in a real browser: a shopper narrows a search by colour and
size, and filters a department's page by brand and colour without leaving it."""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import Page, expect

from catalog.models import AttributeFacet
from catalog.search.suggestions import refresh_search_terms
from tests.factories import BrandFactory, InventoryFactory, ProductFactory, category_tree

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Electronics declares Colour and Size (sizes in the order S, M, L); its
# subcategories inherit them. Home & Kitchen declares nothing, so its bottle's
# colour is not counted. Every title has "Sport" in it.
#   title, category, brand, price, colour, size
PRODUCTS = [
    ("Acme Sport Headphones", "headphones", "acme", "59.00", "Black", "M"),
    ("Sonic Sport Headphones", "headphones", "sonic", "89.00", "Black", "L"),
    ("Acme Sport Earbuds", "headphones", "acme", "39.00", "Red", "S"),
    ("Sonic Sport Earbuds", "audio", "sonic", "45.00", "Blue", "M"),
    ("Acme Sport Cable", "cables", "acme", "12.00", "Red", "M"),
    ("Sonic Sport Cable", "cables", "sonic", "15.00", "Black", "L"),
    ("Hearth Sport Bottle", "home-kitchen", "hearth", "19.00", "Red", None),
]
ELECTRONICS = [title for title, category, *_ in PRODUCTS if category != "home-kitchen"]


def seed_facet_catalog():
    categories = category_tree()
    brands = {slug: BrandFactory(name=slug.capitalize(), slug=slug) for slug in ("acme", "sonic", "hearth")}
    electronics = categories["electronics"]
    AttributeFacet.objects.create(category=electronics, key="color", label="Colour", position=0)
    AttributeFacet.objects.create(category=electronics, key="size", label="Size", position=1, value_order="S\nM\nL")
    for title, category, brand, price, colour, size in PRODUCTS:
        attributes = {"color": colour, **({"size": size} if size else {})}
        product = ProductFactory(
            title=title, category=categories[category], brand=brands[brand], price=Decimal(price),
            description=f"{title}: a product of the facet test catalog.", attributes=attributes,
            rating=Decimal("4.5"), review_count=40,
        )
        InventoryFactory(product=product, quantity=10)
    refresh_search_terms()


def filters(page: Page):
    return page.get_by_role("complementary", name="Filters")


def facet(page: Page, slug: str):
    return filters(page).locator(f'section.facet-attribute[data-facet="{slug}"]')


def facet_link(section, label: str):
    # The facet's drawn check box ("☐", CSS content) is part of the link's name: match the end.
    return section.get_by_role("link", name=re.compile(rf"\b{re.escape(label)}$"))


def expect_values(section, *values: str):
    """The section's values with their counts, in order: expect_values(size, "S 1", "M 3")."""
    expect(section.locator("li")).to_have_text(list(values))


def expect_results(page: Page, *titles: str):
    cards = page.locator(".results .product-grid .card .card-title")
    expect(cards).to_have_count(len(titles))
    assert sorted(cards.all_text_contents()) == sorted(titles)


def chip(page: Page, label):
    """A removable chip by its value's label (or a pattern of the whole name)."""
    name = label if isinstance(label, re.Pattern) else f"Remove filter {label}"
    return page.get_by_role("list", name="Selected filters").get_by_role("link", name=name)


def test_attribute_facets_narrow_a_search(page, shoot):
    seed_facet_catalog()
    page.goto("/")
    page.get_by_role("combobox", name="Search products").fill("sport")
    page.get_by_role("button", name="Search", exact=True).click()
    expect(page.get_by_role("heading", name="Results for “sport”")).to_be_visible()
    expect_results(page, *(title for title, *_ in PRODUCTS))

    colour, size = facet(page, "color"), facet(page, "size")
    expect(colour.get_by_role("heading", level=2)).to_have_text("Colour")
    expect(size.get_by_role("heading", level=2)).to_have_text("Size")
    # The bottle's Red is not counted: Home & Kitchen does not declare a colour facet.
    expect_values(colour, "Black 3", "Red 2", "Blue 1")
    # The declared order, not the counts' (M 3, L 2, S 1).
    expect_values(size, "S 1", "M 3", "L 2")
    expect(page.locator("ul.chips")).to_have_count(0)
    shoot(page, "facets-search")

    # One colour: the results narrow; the link is selected, the URL and a chip say so.
    facet_link(colour, "Red").click()
    expect(page).to_have_url(re.compile(r"[?&]attr_color=Red(&|$)"))
    expect(facet_link(colour, "Red")).to_have_attribute("aria-current", "true")
    expect(facet_link(colour, "Black")).not_to_have_attribute("aria-current", "true")
    expect(chip(page, "Red")).to_be_visible()
    # Only where the facet is shown: the red bottle's department has no colour facet.
    expect_results(page, "Acme Sport Earbuds", "Acme Sport Cable")
    # Sizes count the red products; colours ignore their own selection.
    expect_values(size, "S 1", "M 1")
    expect_values(colour, "Black 3", "Red 2", "Blue 1")
    shoot(page, "facets-search-colour")

    # A second colour: OR within the facet, the results widen.
    facet_link(colour, "Blue").click()
    expect(page).to_have_url(re.compile(r"attr_color=Red&attr_color=Blue"))
    expect(facet_link(colour, "Red")).to_have_attribute("aria-current", "true")
    expect(facet_link(colour, "Blue")).to_have_attribute("aria-current", "true")
    expect(chip(page, "Blue")).to_be_visible()
    expect_results(page, "Acme Sport Earbuds", "Acme Sport Cable", "Sonic Sport Earbuds")
    expect_values(size, "S 1", "M 2")
    expect_values(colour, "Black 3", "Red 2", "Blue 1")
    shoot(page, "facets-search-two-colours")

    # A size: AND across facets (the bottle has no size).
    facet_link(size, "M").click()
    expect(page).to_have_url(re.compile(r"attr_size=M"))
    expect(page).to_have_url(re.compile(r"attr_color=Red&attr_color=Blue"))
    expect(facet_link(size, "M")).to_have_attribute("aria-current", "true")
    expect_results(page, "Acme Sport Cable", "Sonic Sport Earbuds")
    expect_values(colour, "Black 1", "Blue 1", "Red 1")  # of size M; ties alphabetical
    expect_values(size, "S 1", "M 2")  # of Red or Blue
    expect(chip(page, re.compile("^Remove filter"))).to_have_count(3)
    shoot(page, "facets-search-colour-and-size")

    # Removing filters by their chips: the results come back.
    chip(page, "Red").click()
    expect(page).not_to_have_url(re.compile(r"attr_color=Red"))
    expect(facet_link(colour, "Red")).not_to_have_attribute("aria-current", "true")
    expect_results(page, "Sonic Sport Earbuds")
    chip(page, "M").click()
    expect(page).not_to_have_url(re.compile(r"attr_size="))
    expect_results(page, "Sonic Sport Earbuds")
    chip(page, "Blue").click()
    expect(page).not_to_have_url(re.compile(r"attr_"))
    expect(page.locator("ul.chips")).to_have_count(0)
    expect_results(page, *(title for title, *_ in PRODUCTS))
    expect_values(colour, "Black 3", "Red 2", "Blue 1")
    expect_values(size, "S 1", "M 3", "L 2")
    shoot(page, "facets-search-cleared")


def test_category_page_facets_keep_to_the_category(page, live_server, shoot):
    seed_facet_catalog()
    page.goto("/c/electronics/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Electronics")
    expect_results(page, *ELECTRONICS)
    sidebar = filters(page)
    # Subcategories instead of the department facet, then the search page's facets.
    expect(sidebar.locator("section.facet > h2")).to_have_text(
        ["Subcategories", "Brand", "Colour", "Size", "Price", "Customer reviews", "Availability"]
    )
    subcategories = sidebar.locator("section.facet").filter(has=page.get_by_role("heading", name="Subcategories"))
    expect(subcategories.get_by_role("link")).to_have_text(["Audio", "Cables"])
    expect(subcategories.get_by_role("link", name="Audio")).to_have_attribute("href", "/c/audio/")
    expect_values(facet(page, "color"), "Black 3", "Red 2", "Blue 1")
    expect_values(facet(page, "size"), "S 1", "M 3", "L 2")
    brand = sidebar.locator("section.facet").filter(has=page.get_by_role("heading", name="Brand"))
    expect(brand.locator("li")).to_have_text(["Acme 3", "Sonic 3"])  # not Hearth: not in Electronics
    shoot(page, "facets-category")

    electronics_page = re.compile(re.escape(live_server.url) + r"/c/electronics/\?")

    # A brand: the listing narrows and stays on the category's page.
    facet_link(brand, "Acme").click()
    expect(page).to_have_url(electronics_page)
    expect(page).to_have_url(re.compile(r"[?&]brand=acme(&|$)"))
    expect(page).not_to_have_url(re.compile(r"category="))
    expect(facet_link(brand, "Acme")).to_have_attribute("aria-current", "true")
    expect_results(page, "Acme Sport Headphones", "Acme Sport Earbuds", "Acme Sport Cable")
    expect_values(facet(page, "color"), "Red 2", "Black 1")

    # And a colour.
    facet_link(facet(page, "color"), "Red").click()
    expect(page).to_have_url(electronics_page)
    expect(page).to_have_url(re.compile(r"[?&]attr_color=Red(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]brand=acme(&|$)"))
    expect(page).not_to_have_url(re.compile(r"category="))
    expect(facet_link(facet(page, "color"), "Red")).to_have_attribute("aria-current", "true")
    expect(chip(page, "Acme")).to_be_visible()
    expect(chip(page, "Red")).to_be_visible()
    expect_results(page, "Acme Sport Earbuds", "Acme Sport Cable")
    shoot(page, "facets-category-brand-colour")

    # Sorting keeps the filters (and the page).
    page.get_by_label("Sort by").select_option("price")
    expect(page).to_have_url(re.compile(r"[?&]sort=price(&|$)"))
    expect(page).to_have_url(electronics_page)
    expect(page).to_have_url(re.compile(r"[?&]brand=acme(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]attr_color=Red(&|$)"))
    expect(page).not_to_have_url(re.compile(r"category="))
    expect(page.get_by_label("Sort by")).to_have_value("price")
    cards = page.locator(".results .product-grid .card .card-title")
    expect(cards).to_have_text(["Acme Sport Cable", "Acme Sport Earbuds"])  # $12, then $39
    expect(chip(page, "Acme")).to_be_visible()
    expect(chip(page, "Red")).to_be_visible()
    shoot(page, "facets-category-sorted")

    # "Clear all": the whole category again.
    page.get_by_role("list", name="Selected filters").get_by_role("link", name="Clear all").click()
    expect(page).not_to_have_url(re.compile(r"brand=|attr_|category="))
    expect(page).to_have_url(re.compile(re.escape(live_server.url) + r"/c/electronics/(\?|$)"))
    expect(page.locator("ul.chips")).to_have_count(0)
    expect_results(page, *ELECTRONICS)
    expect(facet_link(brand, "Acme")).not_to_have_attribute("aria-current", "true")
    expect_values(facet(page, "color"), "Black 3", "Red 2", "Blue 1")
    shoot(page, "facets-category-cleared")
