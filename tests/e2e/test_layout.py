"""The store's layout holds on a phone (375 px) and a desktop (1280 px): no page
scrolls sideways, not even for a 300-character word typed into search, and no
product card grows past 320 px, however few cards share a grid or a shelf."""
import pytest
from playwright.sync_api import expect

from .helpers import add_to_cart, horizontal_overflow, seed_catalog

SCREENS = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {"viewport": {"width": 375, "height": 812}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2},
}
MAX_CARD_WIDTH = 320
LONG_WORD = "supercalifragilistic" * 15  # 300 characters, no space to break at

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.fixture(params=sorted(SCREENS))
def screen(request, new_context):
    """(name, page) for each screen size."""
    context = new_context(**SCREENS[request.param])
    context.set_default_timeout(15_000)
    return request.param, context.new_page()


def card_widths(page) -> list[float]:
    return page.eval_on_selector_all(".card", "cards => cards.map((card) => card.getBoundingClientRect().width)")


def load_pictures(page):
    """Load the lazy pictures too, so that the full-page screenshot shows every card's."""
    page.evaluate(
        """() => Promise.all([...document.images].map((img) => {
            img.loading = "eager";
            return img.complete ? null : new Promise((done) => { img.onload = img.onerror = done; });
        }))"""
    )


def check_layout(page, width):
    overflow = horizontal_overflow(page, width)
    assert overflow is None, f"{page.url} is wider than the {width}px screen: {overflow}"
    widths = card_widths(page)
    assert all(card_width <= MAX_CARD_WIDTH for card_width in widths), f"{page.url}: cards {widths} px wide"


def open_home_with_a_shelf_of_two(page, catalog):
    """Two products viewed: the home page's "Recently viewed" shelf holds just those two."""
    for title in ("Sonic Studio Headphones", "Hearth Espresso Machine"):
        page.goto(catalog.products[title].get_absolute_url())
    page.goto("/")
    expect(page.locator(".shelf--recent .card")).to_have_count(2)


def open_category(page, catalog):
    page.goto("/c/headphones/")
    expect(page.locator(".results .card")).to_have_count(3)


def open_search(page, catalog):
    page.goto("/search/?q=headphones")
    expect(page.locator(".results .card")).to_have_count(4)


def open_search_for_a_long_word(page, catalog):
    page.goto(f"/search/?q={LONG_WORD}&price=lt25")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Results for")
    expect(page.get_by_role("link", name="Remove filter Under $25")).to_be_visible()


def open_product(page, catalog):
    page.goto(catalog.products["Sonic Studio Headphones"].get_absolute_url())
    expect(page.get_by_role("button", name="Add to cart")).to_be_visible()


def open_cart(page, catalog):
    add_to_cart(page, catalog.products["Sonic Studio Headphones"], 1)
    expect(page.get_by_label("Quantity of Sonic Studio Headphones")).to_have_value("1")


OPEN = {
    "home": open_home_with_a_shelf_of_two,
    "category": open_category,
    "search": open_search,
    "search-long-word": open_search_for_a_long_word,
    "product": open_product,
    "cart": open_cart,
}


@pytest.mark.parametrize("name", OPEN)
def test_no_page_is_wider_than_the_screen_nor_any_card_wider_than_320px(screen, shoot, name):
    size, page = screen
    OPEN[name](page, seed_catalog())
    load_pictures(page)
    shoot(page, f"layout-{name}" if size == "desktop" else f"phone-layout-{name}")
    check_layout(page, SCREENS[size]["viewport"]["width"])


def test_a_shelf_of_two_keeps_its_cards_card_sized(page):
    """The case that drew 590 px posters: two cards on a 1280 px shelf."""
    page.set_viewport_size({"width": 1280, "height": 800})
    open_home_with_a_shelf_of_two(page, seed_catalog())
    widths = page.eval_on_selector_all(
        ".shelf--recent .card", "cards => cards.map((card) => card.getBoundingClientRect().width)"
    )
    assert len(widths) == 2 and all(160 <= width <= MAX_CARD_WIDTH for width in widths), widths
    image = page.locator(".shelf--recent .card .product-image").first.bounding_box()
    assert image["width"] <= MAX_CARD_WIDTH and image["height"] <= MAX_CARD_WIDTH
