"""The product page in a browser, on a desktop and a phone screen: the quantity a shopper can
buy, the ratings by stars, verified purchases, sorting the reviews, and an unrated product."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from catalog.reviews.models import Review
from tests.factories import UserFactory, order_of

from .helpers import horizontal_overflow, seed_catalog

PHONE = {"width": 375, "height": 812}
SCREENS = [
    pytest.param("", id="desktop"),
    pytest.param(
        "phone-",
        id="phone",
        marks=pytest.mark.browser_context_args(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2),
    ),
]

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def fits(page, prefix):
    if prefix:
        overflow = horizontal_overflow(page, PHONE["width"])
        assert overflow is None, f"{page.url} is wider than the {PHONE['width']}px screen: {overflow}"


def options(page):
    return page.get_by_label("Quantity").locator("option").all_inner_texts()


@pytest.mark.parametrize("prefix", SCREENS)
def test_the_quantity_select_offers_what_can_be_bought(page, shoot, prefix):
    catalog = seed_catalog(extra=[("Hearth Copper Kettle", 3)])
    kettle = catalog.products["Hearth Copper Kettle"]

    page.goto(kettle.get_absolute_url())
    expect(page.get_by_text("Only 3 left")).to_be_visible()
    assert options(page) == ["1", "2", "3"]
    page.get_by_label("Quantity").select_option("2")
    page.get_by_role("button", name="Add to cart").click()

    page.goto(kettle.get_absolute_url())
    expect(page.get_by_role("link", name="2 in your cart")).to_be_visible()
    assert options(page) == ["1"]  # the third and last one
    shoot(page, f"{prefix}product-quantity")
    fits(page, prefix)

    page.get_by_role("button", name="Add to cart").click()
    page.goto(kettle.get_absolute_url())
    expect(page.get_by_text("Out of stock")).to_be_visible()
    expect(page.get_by_label("Quantity")).to_have_count(0)
    expect(page.get_by_role("button", name="Add to cart")).to_have_count(0)


def reviewed_product():
    """A product with 20 ratings by stars, three of them written: two by shoppers it was delivered to."""
    catalog = seed_catalog()
    product = catalog.products["Sonic Studio Headphones"]
    type(product).objects.filter(pk=product.pk).update(
        rating=Decimal("4.1"), review_count=20, stars_5=12, stars_4=3, stars_3=2, stars_2=1, stars_1=2
    )
    now = timezone.now()
    for age, (name, stars, title, delivered) in enumerate(
        [
            ("ada", 3, "Fine for the price", True),
            ("grace", 5, "Superb sound", False),
            ("alan", 1, "Broke in a week", True),
        ]
    ):
        author = UserFactory(username=name, password=None)
        if delivered:
            order_of(author, product)
        Review.objects.create(
            product=product, user=author, rating=stars, title=title, body=f"{title}.", created_at=now - timedelta(days=age)
        )
    return product


def review_titles(page):
    return page.locator(".review-title").all_inner_texts()


@pytest.mark.parametrize("prefix", SCREENS)
def test_reviews_show_the_histogram_verified_purchases_and_sort(page, shoot, prefix):
    product = reviewed_product()

    page.goto(product.get_absolute_url())
    reviews = page.locator("#reviews")
    expect(reviews.get_by_text("20 global ratings")).to_be_visible()
    histogram = reviews.locator("table.histogram")
    expect(histogram.get_by_role("row", name="5 stars 60% 12")).to_be_visible()
    expect(histogram.get_by_role("row", name="1 star 10% 2")).to_be_visible()
    expect(reviews.get_by_role("heading", name="3 written reviews")).to_be_visible()
    assert review_titles(page) == ["Fine for the price", "Superb sound", "Broke in a week"]
    verified = page.locator(".review").filter(has=page.locator(".verified"))
    expect(verified).to_have_count(2)
    expect(page.locator(".review").filter(has_text="Superb sound").locator(".verified")).to_have_count(0)
    shoot(page, f"{prefix}product-reviews")
    fits(page, prefix)

    page.get_by_label("Sort reviews by").select_option("lowest")  # the script submits the choice
    expect(page).to_have_url(f"{product.get_absolute_url()}?reviews_sort=lowest#reviews")
    assert review_titles(page) == ["Broke in a week", "Fine for the price", "Superb sound"]
    page.get_by_label("Sort reviews by").select_option("highest")
    expect(page).to_have_url(f"{product.get_absolute_url()}?reviews_sort=highest#reviews")
    assert review_titles(page) == ["Superb sound", "Fine for the price", "Broke in a week"]


def test_sorting_reviews_works_without_javascript(new_context, live_server):
    product = reviewed_product()
    page = new_context(java_script_enabled=False).new_page()

    page.goto(live_server.url + product.get_absolute_url())
    page.get_by_label("Sort reviews by").select_option("highest")
    page.locator("#reviews").get_by_role("button", name="Sort").click()
    expect(page).to_have_url(f"{live_server.url}{product.get_absolute_url()}?reviews_sort=highest#reviews")
    assert review_titles(page) == ["Superb sound", "Fine for the price", "Broke in a week"]

    page.goto(live_server.url + product.get_absolute_url() + "?reviews_sort=sideways")
    assert review_titles(page) == ["Fine for the price", "Superb sound", "Broke in a week"]


@pytest.mark.parametrize("prefix", SCREENS)
def test_an_unrated_product_shows_no_zero_rating(page, shoot, prefix):
    catalog = seed_catalog(extra=[("Hearth Unrated Teapot", 12)])
    teapot = catalog.products["Hearth Unrated Teapot"]
    type(teapot).objects.filter(pk=teapot.pk).update(rating=0, review_count=0, stars_5=0, stars_4=0, stars_3=0, stars_2=0, stars_1=0)

    page.goto(teapot.get_absolute_url())
    expect(page.locator(".product-info").get_by_text("No ratings yet")).to_be_visible()
    expect(page.locator("#reviews").get_by_text("No ratings yet.")).to_be_visible()
    expect(page.locator("body")).not_to_contain_text("0.0")
    expect(page.locator("body")).not_to_contain_text("out of 5")
    shoot(page, f"{prefix}product-unrated")
    fits(page, prefix)

    page.goto("/search/?q=teapot")
    card = page.locator(".card").filter(has_text="Teapot")
    expect(card).to_have_count(1)
    expect(card.locator(".rating")).to_have_count(0)
    expect(page.locator(".results")).not_to_contain_text("0.0")
