"""The product API: the category pages' listing with filters, strict about what it is sent."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from catalog import selectors as catalog_selectors
from catalog.models import Inventory
from tests.factories import BrandFactory, CategoryFactory, ProductFactory, category_tree, stocked_product

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    categories = category_tree()
    electronics, audio, kitchen = categories["electronics"], categories["audio"], categories["home-kitchen"]
    acme, zeta = BrandFactory(slug="acme"), BrandFactory(slug="zeta")
    now = timezone.now()
    return {
        "speaker": stocked_product(
            10, title="Speaker", category=audio, brand=acme, price=Decimal("30.00"), created_at=now - timedelta(days=1)
        ),
        "tv": stocked_product(
            2, 1, title="TV", category=electronics, brand=zeta, price=Decimal("300.00"), created_at=now - timedelta(days=2)
        ),
        "kettle": stocked_product(
            0, title="Kettle", category=kitchen, brand=acme, price=Decimal("20.00"), created_at=now - timedelta(days=3)
        ),
        "retired": ProductFactory(title="Retired", category=audio, brand=acme, is_active=False),
    }


def titles(response):
    assert response.status_code == 200, response.content
    return [product["title"] for product in response.json()["results"]]


def test_the_list_shows_active_products_newest_first_with_their_stock(client, store):
    body = client.get("/api/products/").json()

    assert [product["title"] for product in body["results"]] == ["Speaker", "TV", "Kettle"]
    assert body["count"] == 3 and body["capped"] is False and body["next"] is None
    tv = body["results"][1]
    assert tv["available"] == 3 and tv["stock"] == "Only 3 left" and tv["price"] == "300.00"
    assert tv["url"] == store["tv"].get_absolute_url()


def test_filters_narrow_the_list_and_a_category_includes_its_descendants(client, store):
    assert titles(client.get("/api/products/?category=electronics")) == ["Speaker", "TV"]
    assert titles(client.get("/api/products/?category=audio")) == ["Speaker"]
    assert titles(client.get("/api/products/?brand=acme")) == ["Speaker", "Kettle"]
    assert titles(client.get("/api/products/?price_min=25&price_max=300")) == ["Speaker", "TV"]
    assert titles(client.get("/api/products/?category=electronics&brand=acme&price_max=30")) == ["Speaker"]
    assert titles(client.get("/api/products/?sort=price")) == ["Kettle", "Speaker", "TV"]
    assert titles(client.get("/api/products/?sort=-price&brand=acme")) == ["Speaker", "Kettle"]


@pytest.mark.parametrize("dense_matches", [1, 1000])
def test_a_price_range_lists_the_same_products_whether_merged_by_category_or_sorted(client, store, monkeypatch, dense_matches):
    monkeypatch.setattr(catalog_selectors, "DENSE_MATCHES", dense_matches)
    assert titles(client.get("/api/products/?price_min=20&price_max=40")) == ["Speaker", "Kettle"]
    assert titles(client.get("/api/products/?price_min=20&price_max=40&page=1&category=electronics")) == ["Speaker"]


@pytest.mark.parametrize(
    "query, field",
    [
        ("category=nowhere", "category"),
        ("category=audio%00", "category"),
        ("brand=nobody", "brand"),
        ("brand=%00", "brand"),
        ("price_min=cheap", "price_min"),
        ("price_max=-1", "price_max"),
        ("price_min=1.001", "price_min"),
        ("price_min=NaN", "price_min"),
        ("price_min=50&price_max=10", "price_max"),
        ("sort=random", "sort"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_field(client, store, query, field):
    response = client.get(f"/api/products/?{query}")

    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [field]
    assert body["detail"] == body["errors"][field][0]


def test_search_reads_leniently_but_refuses_a_nul_byte(client, store):
    assert client.get("/api/search/?brand=nobody&price=cheap&page=x").json()["total"] == 3
    refused = client.get("/api/search/?q=speaker%00")
    assert refused.status_code == 400 and refused.json()["errors"] == {"q": ["Null characters are not allowed."]}


def test_the_list_is_bounded_like_the_category_pages(client, small_pages):
    category = CategoryFactory()
    for _ in range(8):
        ProductFactory(category=category)

    first = client.get("/api/products/").json()
    assert first["count"] == 6 and first["capped"] is True and len(first["results"]) == 2
    assert len(client.get("/api/products/?page=3").json()["results"]) == 2
    beyond = client.get("/api/products/?page=4")
    assert beyond.status_code == 404 and beyond.json() == {"detail": "Invalid page."}


def test_the_detail_shows_available_stock_and_the_badge(client, store):
    Inventory.objects.filter(product=store["speaker"]).update(reserved=6)

    body = client.get(f"/api/products/{store['speaker'].pk}/").json()
    assert body["title"] == "Speaker" and body["category"] == "audio" and body["brand_slug"] == "acme"
    assert body["available"] == 4 and body["stock"] == "Only 4 left" and body["stock_level"] == "low"
    assert body["attributes"] == {"color": "Black"}
    assert client.get(f"/api/products/{store['kettle'].pk}/").json()["stock_level"] == "out"


def test_inactive_and_unknown_products_are_404s_in_the_api_error_shape(client, store):
    for path in (f"/api/products/{store['retired'].pk}/", "/api/products/999999/", "/api/products/not-a-number/"):
        response = client.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json"
        assert set(response.json()) == {"detail"}
