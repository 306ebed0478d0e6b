""""Frequently bought together": the product and its two best complements in stock, on the page and in the API."""
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest

from cart import services as cart_services
from cart.models import CartLine
from catalog import selectors as catalog_selectors
from catalog.models import Product
from recommendations import selectors, services
from tests.factories import CategoryFactory, stock_invariant_violations, stocked_product
from tests.recommendations.helpers import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def store():
    """A camera bought with a cable (5 times), a tripod (4, sold out), a lens (3) and a strap (2).

    Each complement is bought only with the camera, so the more often, the
    better it ranks; a flash is bought with the tripod alone.
    """
    category = CategoryFactory(name="Cameras")
    prices = {"Camera": "249.00", "Cable": "9.99", "Tripod": "35.00", "Lens": "1120.50", "Strap": "12.00", "Flash": "60.00"}
    products = {
        title: stocked_product(0 if title == "Tripod" else 10, category=category, title=title, price=price)
        for title, price in prices.items()
    }
    for title, times in (("Cable", 5), ("Tripod", 4), ("Lens", 3), ("Strap", 2)):
        for _ in range(times):
            place(products["Camera"], products[title])
    for _ in range(2):
        place(products["Tripod"], products["Flash"])
    services.compute_recommendations()
    return products


def bundle_of(product):
    return selectors.frequently_bought_together(catalog_selectors.product_detail(product.pk))


def titles(bundle):
    return [product.title for product in bundle.products]


def test_the_product_and_its_two_best_complements_in_stock_with_their_total(store):
    bundle = bundle_of(store["Camera"])

    assert titles(bundle) == ["Camera", "Cable", "Lens"]  # the tripod is sold out
    assert bundle.total_price == Decimal("1379.49") and isinstance(bundle.total_price, Decimal)
    assert all(product.stock_badge.purchasable for product in bundle.products)


def test_one_complement_in_stock_makes_a_bundle_of_two(store):
    assert titles(bundle_of(store["Cable"])) == ["Cable", "Camera"]


def test_no_bundle_without_a_complement_in_stock(store):
    assert bundle_of(store["Flash"]) is None  # its only complement, the tripod, is sold out
    assert selectors.frequently_bought_together(store["Tripod"]) is None  # itself sold out
    assert bundle_of(stocked_product(5, title="Unsold")) is None


def test_no_bundle_for_a_product_no_longer_sold(store):
    Product.objects.filter(pk=store["Camera"].pk).update(is_active=False)
    assert selectors.frequently_bought_together(store["Camera"]) is None


def test_the_total_follows_the_price_of_the_day(store):
    Product.objects.filter(pk=store["Cable"].pk).update(price=Decimal("7.49"))
    bundle = bundle_of(store["Camera"])
    assert (bundle.products[1].price, bundle.total_price) == (Decimal("7.49"), Decimal("1376.99"))


def test_the_cart_takes_a_bundle_as_large_as_the_page_offers():
    assert 1 + selectors.BUNDLE_COMPLEMENTS <= cart_services.BUNDLE_MAX_PRODUCTS


class BundleForm(HTMLParser):
    """The section's form: its action, the hidden fields, the button's label, and any inline code (the CSP blocks it)."""

    def __init__(self):
        super().__init__()
        self.action, self.fields, self.button, self.in_button, self.inline = None, [], "", False, []

    def handle_starttag(self, tag, attrs):
        self.inline += [f"<{tag} {name}>" for name, _ in attrs if name == "style" or name.startswith("on")]
        self.inline += [f"<{tag}>"] if tag in ("script", "style") else []
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs["action"]
        elif tag == "input":
            self.fields.append((attrs["name"], attrs.get("value", "")))
        self.in_button = tag == "button"

    def handle_data(self, data):
        if self.in_button:
            self.button += data.strip()


def section(response):
    html = response.content.decode()
    assert response.status_code == 200
    if "Frequently bought together" not in html:
        return None
    return html.split("Frequently bought together", 1)[1].split("</section>", 1)[0]


def test_the_page_shows_the_cards_joined_by_plus_the_total_and_one_button(client, store):
    html = section(client.get(store["Camera"].get_absolute_url()))

    assert re.findall(r'<span class="card-title">([^<]*)</span>', html) == ["Camera", "Cable", "Lens"]
    assert html.count('<li class="bundle-plus" aria-hidden="true">+</li>') == 2
    assert "Total price: <span class=\"price\">$1,379.49</span>" in html
    form = BundleForm()
    form.feed(html)
    assert form.action == "/cart/add-bundle/"
    assert [value for name, value in form.fields if name == "product"] == [
        str(store[title].pk) for title in ("Camera", "Cable", "Lens")
    ]
    assert ("next", store["Camera"].get_absolute_url()) in form.fields
    assert any(name == "csrfmiddlewaretoken" and value for name, value in form.fields)
    assert form.button == "Add all three to cart"
    assert form.inline == []


def test_two_products_say_both(client, store):
    form = BundleForm()
    form.feed(section(client.get(store["Cable"].get_absolute_url())))
    assert form.button == "Add both to cart"


def test_the_section_is_hidden_without_a_bundle(client, store):
    assert section(client.get(store["Flash"].get_absolute_url())) is None
    assert section(client.get(store["Tripod"].get_absolute_url())) is None


def test_the_pages_form_puts_all_three_in_the_cart(client, store):
    form = BundleForm()
    form.feed(section(client.get(store["Camera"].get_absolute_url())))
    data = {}
    for name, value in form.fields:
        data.setdefault(name, []).append(value)

    response = client.post(form.action, data, follow=True)

    assert response.redirect_chain[-1][0] == "/cart/"
    assert sorted(CartLine.objects.values_list("product__title", flat=True)) == ["Cable", "Camera", "Lens"]
    assert "$1,379.49" in response.content.decode()  # the cart's subtotal is the bundle's total
    assert stock_invariant_violations() == []


def test_api_bought_together(client, store):
    body = client.get(f"/api/products/{store['Camera'].pk}/bought-together/").json()

    assert [card["id"] for card in body["products"]] == [store[title].pk for title in ("Camera", "Cable", "Lens")]
    assert body["products"][0]["price"] == "249.00" and body["products"][0]["stock"] == "In stock"
    assert body["total_price"] == "1379.49"


def test_api_without_a_bundle_and_for_an_unknown_product(client, store):
    response = client.get(f"/api/products/{store['Flash'].pk}/bought-together/")
    assert response.status_code == 200
    assert response.json() == {"products": [], "total_price": None}
    assert client.get("/api/products/999999/bought-together/").status_code == 404
