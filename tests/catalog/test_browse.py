"""Category browsing: what a shopper sees on /c/<slug>/."""
from decimal import Decimal

import pytest

from catalog.models import Product
from tests.factories import ProductFactory, category_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def tree():
    categories = category_tree()
    return categories["electronics"], categories["audio"], categories["headphones"], categories["books"]


def titles(response):
    return [product.title for product in response.context["products"]]


def test_parent_category_includes_all_descendants(client, tree):
    electronics, audio, headphones, books = tree
    ProductFactory(title="Radio", category=electronics)
    ProductFactory(title="Speaker", category=audio)
    ProductFactory(title="Earbuds", category=headphones)
    ProductFactory(title="Novel", category=books)

    assert sorted(titles(client.get("/c/electronics/"))) == ["Earbuds", "Radio", "Speaker"]
    assert sorted(titles(client.get("/c/audio/"))) == ["Earbuds", "Speaker"]
    assert titles(client.get("/c/headphones/")) == ["Earbuds"]


def test_inactive_products_are_not_listed(client, tree):
    ProductFactory(title="Visible", category=tree[0])
    ProductFactory(title="Hidden", category=tree[0], is_active=False)
    assert titles(client.get("/c/electronics/")) == ["Visible"]


def test_breadcrumbs_and_subcategories(client, tree):
    body = client.get("/c/audio/").content.decode()
    assert 'href="/c/electronics/"' in body  # breadcrumb to the parent
    assert 'href="/c/headphones/"' in body  # subcategory link


def test_sorting_by_price(client, tree):
    for price in ("30.00", "10.00", "20.00"):
        ProductFactory(title=f"Costs {price}", category=tree[0], price=Decimal(price))
    low_first = [p.price for p in client.get("/c/electronics/?sort=price").context["products"]]
    high_first = [p.price for p in client.get("/c/electronics/?sort=-price").context["products"]]
    assert low_first == [Decimal("10.00"), Decimal("20.00"), Decimal("30.00")]
    assert high_first == low_first[::-1]


def test_sorting_by_rating_and_unknown_sort_falls_back(client, tree):
    ProductFactory(title="Good", category=tree[0], rating=Decimal("4.5"))
    ProductFactory(title="Best", category=tree[0], rating=Decimal("4.9"))
    assert titles(client.get("/c/electronics/?sort=rating")) == ["Best", "Good"]
    response = client.get("/c/electronics/?sort=DROP TABLE")
    assert response.status_code == 200
    assert response.context["sort"] == "newest"


def test_pagination_walks_every_product_once(client, tree, small_pages):
    ProductFactory.create_batch(5, category=tree[2])
    seen = []
    for number in (1, 2, 3):
        seen += [product.pk for product in client.get(f"/c/electronics/?page={number}").context["products"]]
    assert sorted(seen) == sorted(Product.objects.values_list("pk", flat=True))
    assert len(set(seen)) == 5


def test_bad_page_numbers_do_not_error(client, tree, small_pages):
    ProductFactory.create_batch(3, category=tree[0])
    assert client.get("/c/electronics/?page=abc").context["page"].number == 1
    assert client.get("/c/electronics/?page=2").context["page"].number == 2
    for bad in ("999", "0", "-4", "99999999999999999999"):  # a page that does not exist is the first
        assert client.get(f"/c/electronics/?page={bad}").context["page"].number == 1, bad


def test_browsing_depth_is_bounded(client, tree, small_pages):
    """With 2 per page and at most 3 pages, 8 products page to the third; the count is still all 8."""
    ProductFactory.create_batch(8, category=tree[0])
    assert client.get("/c/electronics/?page=4").context["page"].number == 1  # past the bound: the first page
    response = client.get("/c/electronics/?page=3")
    page = response.context["page"]
    assert page.number == 3
    assert page.paginator.count == 6 and page.paginator.capped
    assert "5–6 of 8 results" in response.content.decode()


def test_unknown_category_is_a_styled_404(client):
    response = client.get("/c/no-such-thing/")
    assert response.status_code == 404
    assert "We couldn’t find that page" in response.content.decode()
