"""Listing pages as a shopper sees them: the numbered pager, a sidebar without
dead ends, and a picture for every product without a photo."""
import re
from decimal import Decimal

import pytest
from django.utils.text import slugify

from catalog.artwork import kind_of
from catalog.pagination import page_numbers
from catalog.search.suggestions import refresh_search_terms
from catalog.seeding import DEPARTMENTS
from tests.factories import BrandFactory, CategoryFactory, InventoryFactory, ProductFactory, category_tree

pytestmark = pytest.mark.django_db


# --- the pager ---------------------------------------------------------------


@pytest.mark.parametrize(
    "number, num_pages, expected",
    [
        (1, 1, [1]),
        (1, 2, [1, 2]),
        (1, 22, [1, 2, None, 22]),
        (3, 22, [1, 2, 3, 4, None, 22]),  # a gap of one page shows that page, not "…"
        (4, 22, [1, 2, 3, 4, 5, None, 22]),
        (10, 22, [1, None, 9, 10, 11, None, 22]),
        (21, 22, [1, None, 20, 21, 22]),
        (22, 22, [1, None, 21, 22]),
        (50, 100, [1, None, 49, 50, 51, None, 100]),
    ],
)
def test_the_pager_offers_the_first_the_neighbours_and_the_last_page(number, num_pages, expected):
    assert page_numbers(number, num_pages) == expected


def pager(body):
    return body.split('<nav class="pagination" aria-label="Pages">')[1].split("</nav>")[0]


@pytest.fixture
def many_headphones(settings):
    settings.CATALOG_PAGE_SIZE = 2
    settings.CATALOG_MAX_PAGES = 10
    headphones = category_tree()["headphones"]
    for number in range(30):
        product = ProductFactory(title=f"Studio Headphones {number}", category=headphones, price=Decimal("20.00"))
        InventoryFactory(product=product, quantity=3)
    refresh_search_terms()


def test_a_category_page_numbers_its_pages_within_the_browsing_cap(client, many_headphones):
    links = pager(client.get("/c/headphones/?in_stock=1&sort=price&page=5").content.decode())
    numbers = re.findall(r'<a href="\?in_stock=1&amp;sort=price&amp;page=(\d+)"', links)
    assert numbers == ["1", "4", "5", "6", "10"]  # 30 products, 2 a page, at most 10 pages
    assert '<a href="?in_stock=1&amp;sort=price&amp;page=5" aria-current="page" aria-label="Page 5">5</a>' in links
    assert links.count("aria-current") == 1
    assert links.count("…") == 2
    assert 'rel="prev" href="?in_stock=1&amp;sort=price&amp;page=4"' in links
    assert 'rel="next" href="?in_stock=1&amp;sort=price&amp;page=6"' in links


def test_the_search_pager_keeps_the_query_and_filters(client, many_headphones):
    links = pager(client.get("/search/?q=headphones&price=lt25&page=2").content.decode())
    assert '<a href="?q=headphones&amp;price=lt25&amp;page=10" aria-label="Page 10">10</a>' in links
    assert 'aria-current="page" aria-label="Page 2"' in links
    assert "rel=\"prev\"" in links and "rel=\"next\"" in links


def test_a_single_page_has_no_pager(client):
    ProductFactory(category=category_tree()["books"])
    assert 'class="pagination"' not in client.get("/c/books/").content.decode()


# --- facets without dead ends -------------------------------------------------


@pytest.fixture
def cables():
    cables = CategoryFactory(name="Cables", slug="cables")
    for title, price in (("USB Cable", "9.00"), ("HDMI Cable", "30.00")):
        InventoryFactory(product=ProductFactory(title=title, category=cables, price=Decimal(price)), quantity=8)
    refresh_search_terms()


def test_a_search_that_finds_nothing_has_no_sidebar_but_still_helps(client, cables):
    response = client.get("/search/?q=cabel")
    body = response.content.decode()
    assert response.context["products"] == []
    assert 'class="sidebar facets"' not in body and 'class="filters"' not in body
    assert "browse--results-only" in body
    assert "No products match “cabel”" in body
    assert 'Did you mean <a href="?q=cable">cable</a>?' in body


def test_zero_count_values_are_left_out_but_a_selected_one_stays_removable(client, cables):
    body = client.get("/search/?q=cable").content.decode()
    sidebar = body.split('class="sidebar facets"')[1].split("</aside>")[0]
    assert "Under $25" in sidebar and "$25 to $50" in sidebar  # one product each
    assert "$50 to $100" not in sidebar  # no product: no link to an empty page
    assert "4★ &amp; up" not in sidebar  # the factory's products have no rating

    nothing = client.get("/search/?q=cable&price=gte100").content.decode()
    sidebar = nothing.split('class="sidebar facets"')[1].split("</aside>")[0]
    assert "$100 &amp; above" in sidebar and 'aria-current="true"' in sidebar  # selected: can be unticked
    assert "Under $25" in sidebar and "$50 to $100" not in sidebar  # the prices that do find something
    assert 'aria-label="Remove filter $100 &amp; above"' in nothing


def test_the_api_still_counts_every_value(client, cables):
    price = client.get("/api/search/?q=cabel").json()["facets"]["price"]
    assert price and all(value["count"] == 0 for value in price)


# --- the drawn picture of a product without a photo ----------------------------


@pytest.fixture
def tree():
    return category_tree()


def picture(client, product):
    return client.get(f"/p/{product.pk}/image.svg")


def test_a_product_without_a_photo_has_a_drawn_picture_cached_for_a_year(client, tree):
    product = ProductFactory(title="Acme Studio Headphones", category=tree["headphones"], attributes={"color": "Blue"})
    response = picture(client, product)
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert "max-age=31536000" in response["Cache-Control"] and "public" in response["Cache-Control"]
    assert "immutable" in response["Cache-Control"]
    svg = response.content.decode()
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"') and "<title>Acme Studio Headphones</title>" in svg
    assert "#2f6fd6" in svg  # blue
    assert " style=" not in svg and "<script" not in svg  # nothing the CSP would refuse
    assert picture(client, product).content == response.content  # deterministic


def test_the_picture_differs_by_category_and_colour(client, tree):
    acme = BrandFactory(name="Acme")

    def drawn(category, colour):
        product = ProductFactory(title="Everyday Thing", brand=acme, category=tree[category], attributes={"color": colour})
        return picture(client, product).content

    black_headphones = drawn("headphones", "Black")
    assert drawn("headphones", "Black") == black_headphones  # same facts, same picture
    assert drawn("books", "Black") != black_headphones
    assert drawn("headphones", "Red") != black_headphones
    uncoloured = ProductFactory(title="Plain Book", category=tree["books"], attributes={})
    assert picture(client, uncoloured).status_code == 200


def test_cards_and_the_product_page_show_the_versioned_picture(client, tree):
    product = ProductFactory(title="Unpictured Pan", category=tree["home-kitchen"], rating="4.8", review_count=50)
    url = re.escape(f"/p/{product.pk}/image.svg?v=")
    home = client.get("/").content.decode()
    assert re.search(rf'<img class="product-image product-image--drawn" src="{url}[0-9a-f.]+" alt="Unpictured Pan" '
                     r'width="400" height="400" loading="lazy" decoding="async">', home)
    page = client.get(product.get_absolute_url()).content.decode()
    main_image = page.split('class="product-media"')[1].split("</div>")[0]
    assert re.search(rf'src="{url}[0-9a-f.]+"', main_image) and "loading=" not in main_image


def test_every_department_of_the_demo_catalog_draws_its_own_kind_of_thing():
    kinds = {department: kind_of((slugify(department),)) for department in DEPARTMENTS}
    assert len(set(kinds.values())) == len(DEPARTMENTS), kinds
    assert kind_of(("cookbooks", "books")) == "book" and kind_of(("office-chairs",)) == "chair"


def test_unknown_and_withdrawn_products_have_no_picture(client, tree):
    withdrawn = ProductFactory(is_active=False)
    assert picture(client, withdrawn).status_code == 404
    assert client.get("/p/999999/image.svg").status_code == 404
