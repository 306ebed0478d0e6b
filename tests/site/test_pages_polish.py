"""Site-wide polish: labelled form controls, the header and footer, breadcrumbs, product images."""
from html.parser import HTMLParser

import pytest

from tests.factories import CategoryFactory, ProductFactory, UserFactory, order_of, stocked_product

pytestmark = pytest.mark.django_db

UNNAMED_OK = {"hidden", "submit", "button", "reset", "image"}


class Controls(HTMLParser):
    """The page's form controls, the ids that a <label for> names, and controls inside a <label>."""

    def __init__(self):
        super().__init__()
        self.controls, self.label_for, self.label_depth, self.wrapped = [], set(), 0, set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "label":
            self.label_depth += 1
            if attrs.get("for"):
                self.label_for.add(attrs["for"])
        elif tag in ("input", "select", "textarea") and attrs.get("type", "text") not in UNNAMED_OK:
            self.controls.append(attrs)
            if self.label_depth:
                self.wrapped.add(id(attrs))

    def handle_endtag(self, tag):
        if tag == "label":
            self.label_depth -= 1

    def unnamed(self):
        return [
            attrs
            for attrs in self.controls
            if not (attrs.get("aria-label") or attrs.get("aria-labelledby") or attrs.get("id") in self.label_for)
            and id(attrs) not in self.wrapped
        ]


def controls(response):
    assert response.status_code == 200, response
    parser = Controls()
    parser.feed(response.content.decode())
    return parser


@pytest.fixture
def pan():
    cookware = CategoryFactory(name="Cookware", slug="cookware", parent=CategoryFactory(name="Kitchen", slug="kitchen"))
    return stocked_product(5, title="Cast Iron Pan", category=cookware)


def test_every_control_of_the_main_pages_has_a_label(client, pan):
    shopper = UserFactory()
    order_of(shopper, pan)  # so the product page shows the review form too
    pages = {"home": "/", "search": "/search/?q=pan", "category": "/c/cookware/", "login": "/accounts/login/",
             "signup": "/accounts/signup/"}
    checked = {name: controls(client.get(url)) for name, url in pages.items()}

    client.force_login(shopper)
    checked["product"] = controls(client.get(pan.get_absolute_url()))
    client.post("/cart/add/", {"product": pan.pk, "quantity": 2})
    checked["cart"] = controls(client.get("/cart/"))
    checked["checkout address"] = controls(client.get("/checkout/"))
    client.post("/checkout/", {"form": "new", "full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "",
                               "city": "London", "postal_code": "N1 9GU", "country": "GB", "phone": ""})
    checked["checkout saved address"] = controls(client.get("/checkout/"))
    checked["checkout review"] = controls(client.get("/checkout/review/"))

    names = {name: [c.get("name") for c in parser.controls] for name, parser in checked.items()}
    assert {"quantity", "rating", "title", "body"} <= set(names["product"])
    assert {"price_min", "price_max", "sort"} <= set(names["search"])
    assert {"card_number", "exp_month", "exp_year", "cvc"} <= set(names["checkout review"])
    assert "address" in names["checkout saved address"] and "quantity" in names["cart"]
    assert {name: parser.unnamed() for name, parser in checked.items() if parser.unnamed()} == {}


def test_the_header_keeps_the_query_and_counts_the_cart(client, pan):
    client.post("/cart/add/", {"product": pan.pk, "quantity": 3})
    body = client.get("/search/?q=iron+pan").content.decode()
    assert 'name="q" value="iron pan"' in body
    assert 'aria-label="Cart, 3 items"' in body and '<span class="cart-count">3</span>' in body


def test_the_footer_links_to_the_cart_the_api_docs_and_when_signed_in_the_orders(client):
    body = client.get("/").content.decode()
    footer = body[body.index('<footer class="site-footer">'):]
    assert 'href="/cart/"' in footer and 'href="/api/docs/"' in footer and 'href="/orders/"' not in footer
    client.force_login(UserFactory())
    footer = client.get("/").content.decode().split('<footer class="site-footer">')[1]
    assert 'href="/orders/">Order history</a>' in footer


def breadcrumbs(response):
    return response.content.decode().split('class="breadcrumbs"')[1].split("</nav>")[0]


def test_breadcrumbs_follow_the_category_tree(client, pan):
    product_crumbs = breadcrumbs(client.get(pan.get_absolute_url()))
    hrefs = ['href="/"', 'href="/c/kitchen/"', 'href="/c/cookware/"']
    assert sorted(hrefs, key=product_crumbs.index) == hrefs  # each present (index raises if not), root first

    category_crumbs = breadcrumbs(client.get("/c/cookware/"))
    assert 'href="/c/kitchen/"' in category_crumbs and '<span aria-current="page">Cookware</span>' in category_crumbs


def test_cards_show_a_lazy_sized_thumbnail_or_the_placeholder(client):
    photo = ProductFactory(title="Pictured Pot", rating="4.9", review_count=50, image="products/2026/01/pot.jpg")
    ProductFactory(title="Unpictured Pan", rating="4.8", review_count=50)

    home = client.get("/").content.decode()
    assert (
        '<img class="product-image" src="/media/products/2026/01/pot.jpg" alt="Pictured Pot" width="400" height="400" '
        'loading="lazy" decoding="async">'
    ) in home
    assert 'src="/p/' in home and '/image.svg?v=' in home and 'alt="Unpictured Pan"' in home  # the drawn picture

    # The product page's own picture is what the shopper came for: loaded at once.
    page = client.get(photo.get_absolute_url()).content.decode()
    main_image = page.split('class="product-media"')[1].split("</div>")[0]
    assert 'width="400" height="400"' in main_image and "loading=" not in main_image
