"""Every HTML form the site renders: CSRF-protected, and no input makes a 5xx or unbalances the stock books.

The forms are not listed here: the test opens the pages a shopper and a
visitor see, and fuzzes each ``<form>`` it finds there, and each link with a
query string (facets, sorting, pages), so a form added to a page is fuzzed
without anyone remembering to add it. Each field gets a value
the page offered (a select's option, a hidden id) or something hostile:
arbitrary text, NUL bytes, huge or negative numbers, a repeated field, or no
field at all. The API gets the same treatment from schemathesis
(tests/site/test_api_schema.py). Staff's admin pages are fuzzed the same way.
"""
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urljoin, urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from cart.models import CartLine
from catalog.reviews.models import Review
from orders.models import Address, Order
from recommendations.services import compute_recommendations
from tests.factories import CategoryFactory, UserFactory, order_of, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db

CSRF_FIELD = "csrfmiddlewaretoken"
MANAGEMENT_FORM = re.compile(r"-(TOTAL|INITIAL|MIN_NUM|MAX_NUM)_FORMS$")


@dataclass
class Form:
    page: str
    action: str
    method: str
    who: str  # "visitor", "shopper" or "staff": who opened the page, and so who posts the form
    fields: dict[str, list[str]] = field(default_factory=dict)  # name -> values the page offered
    has_csrf_token: bool = False

    def __str__(self):
        return f"{self.method.upper()} {self.action} (from {self.page})"


class FormParser(HTMLParser):
    def __init__(self, page, who):
        super().__init__()
        self.page, self.who = page, who
        self.forms: list[Form] = []
        self.current: Form | None = None
        self.select: str | None = None

    def offer(self, name, value):
        if self.current is None or not name:
            return
        if name == CSRF_FIELD:
            self.current.has_csrf_token = True
        else:
            self.current.fields.setdefault(name, []).append(value or "")

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            action = urlsplit(urljoin(self.page, attrs.get("action") or self.page)).path
            self.current = Form(self.page, action, (attrs.get("method") or "get").lower(), self.who)
        elif tag == "a" and "?" in (attrs.get("href") or ""):
            link = urlsplit(urljoin(self.page, attrs["href"]))
            query = Form(self.page, link.path, "get", self.who)
            for name, value in parse_qsl(link.query, keep_blank_values=True):
                query.fields.setdefault(name, []).append(value)
            self.forms.append(query)
        elif tag == "input" and attrs.get("type") not in ("submit", "reset", "image") or tag == "button":
            self.offer(attrs.get("name"), attrs.get("value"))
        elif tag == "textarea":
            self.offer(attrs.get("name"), "")
        elif tag == "select":
            self.select = attrs.get("name")
            if self.current is not None and self.select:
                self.current.fields.setdefault(self.select, [])
        elif tag == "option" and self.select:
            self.offer(self.select, attrs.get("value"))

    def handle_endtag(self, tag):
        if tag == "form" and self.current is not None:
            self.forms.append(self.current)
            self.current = None
        elif tag == "select":
            self.select = None


def forms_on(client, paths, *, who):
    """Every form and query link on the pages, one per (method, action, field names), offers merged."""
    found: dict[tuple, Form] = {}
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200, path
        parser = FormParser(path, who)
        parser.feed(response.content.decode())
        for form in parser.forms:
            same = found.setdefault((form.method, form.action, tuple(sorted(form.fields))), form)
            if same is not form:
                for name, offered in form.fields.items():
                    same.fields[name] = sorted(set(same.fields[name] + offered))
    return list(found.values())


HOSTILE = st.sampled_from([
    "", " ", "0", "-1", "1.5", "1e9", "99999999999999999999999", "NaN", "Infinity", "\x00", "1\x00",
    "💥", "' OR 1=1 --", "<script>alert(1)</script>", "../../etc/passwd", "%00", "x" * 5000, "2147483648",
])
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
MISSING = object()


def values_for(offered: list[str]):
    one = st.one_of(st.sampled_from(offered), HOSTILE, TEXT, st.integers().map(str)) if offered else st.one_of(
        HOSTILE, TEXT, st.integers().map(str)
    )
    return st.one_of(one, st.lists(one, min_size=2, max_size=3), st.just(MISSING))


@pytest.fixture
def store(settings):
    """A shopper mid-checkout with an order to review and one to cancel, and staff, so every form is on some page."""
    settings.RATELIMIT_ENABLED = False  # the fuzz reaches the forms' handlers, not the limits
    category = CategoryFactory(slug="kitchen", name="Kitchen")
    kettle = stocked_product(40, 3, title="Steel kettle", category=category)
    teapot = stocked_product(5, title="Teapot", category=category)
    for _ in range(2):  # bought together: the kettle's page has the bundle's form
        order_of(UserFactory(password=None), kettle, teapot, status="paid")
    compute_recommendations()
    shopper = UserFactory()
    order_of(shopper, kettle, status="delivered")  # may review the kettle
    cancellable = order_of(shopper, kettle, status="paid")
    client = Client()
    client.force_login(shopper)
    client.post("/cart/add/", {"product": kettle.pk, "quantity": 2})
    client.post("/checkout/", {
        "form": "new", "full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "", "city": "London",
        "postal_code": "N1 9GU", "country": "GB", "phone": "",
    })
    shopper_pages = [
        "/", "/c/kitchen/", kettle.get_absolute_url(), "/search/?q=kettle", "/cart/", "/checkout/",
        "/checkout/review/", "/orders/", f"/orders/{cancellable.number}/",
    ]
    staff = UserFactory(is_staff=True, is_superuser=True)
    staff_pages = [
        "/admin/catalog/product/", f"/admin/catalog/product/{kettle.pk}/change/", "/admin/reviews/review/",
        "/admin/orders/order/", f"/admin/orders/order/{cancellable.pk}/change/",
    ]
    users = {"visitor": None, "shopper": shopper, "staff": staff}
    forms = forms_on(client, shopper_pages, who="shopper")
    forms += forms_on(Client(), ["/accounts/login/", "/accounts/signup/", "/accounts/password_reset/"], who="visitor")
    staff_client = Client()
    staff_client.force_login(staff)
    forms += forms_on(staff_client, staff_pages, who="staff")
    return users, forms


def client_of(user, **options):
    client = Client(**options)
    if user is not None:
        client.force_login(user)
    return client


def fuzz(forms, users, examples):
    @hypothesis_settings(max_examples=examples, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=st.data())
    def post_any(data):
        form = data.draw(st.sampled_from(forms), label="form")
        sent = {}
        for name, offered in form.fields.items():
            if MANAGEMENT_FORM.search(name):
                # A formset's form counts stay as rendered: Django bounds them (absolute_max), but a
                # hostile count makes it build a thousand forms per inline, seconds per request.
                sent[name] = offered[0]
                continue
            value = data.draw(values_for(offered), label=name)
            if value is not MISSING:
                sent[name] = value
        client = client_of(users[form.who])
        request = client.post if form.method == "post" else client.get
        response = request(form.action, sent)
        assert response.status_code < 500, f"{form}: {sent!r} -> {response.status_code}"

    post_any()


def test_no_input_to_the_stores_forms_makes_a_server_error(store):
    users, forms = store
    forms = [form for form in forms if form.who != "staff"]
    found = {(form.method, form.action) for form in forms}
    # The discovery itself is checked: a page that stopped rendering its forms would make this test vacuous.
    assert {("post", "/cart/add/"), ("post", "/cart/add-bundle/"), ("post", "/checkout/"), ("post", "/checkout/review/"),
            ("get", "/search/"), ("post", "/accounts/signup/"), ("post", "/accounts/login/")} <= found
    assert any(action.startswith("/cart/lines/") for _, action in found)
    assert any(action.endswith("/reviews/new/") for _, action in found)
    assert any(action.endswith("/cancel/") for _, action in found)

    fuzz(forms, users, examples=400)
    assert stock_invariant_violations() == []


def test_no_input_to_the_admins_forms_makes_a_server_error(store):
    """Staff forms too: Django's admin trusts some posted ids and dates (see amazon_site/core/admin.py)."""
    users, forms = store
    forms = [form for form in forms if form.who == "staff"]
    found = {(form.method, form.action) for form in forms}
    assert {("post", "/admin/catalog/product/"), ("post", "/admin/orders/order/")} <= found  # the actions
    assert any(action.endswith("/change/") for _, action in found)

    fuzz(forms, users, examples=400)
    assert stock_invariant_violations() == []


def test_every_post_form_carries_a_csrf_token_and_is_refused_without_it(store):
    users, forms = store
    posts = [form for form in forms if form.method == "post"]
    assert [str(form) for form in posts if not form.has_csrf_token] == []

    def state():
        return (
            sorted(CartLine.objects.values_list("id", "quantity")), Order.objects.count(), Review.objects.count(),
            Address.objects.count(), get_user_model().objects.count(),
        )

    before = state()
    for form in posts:
        client = client_of(users[form.who], enforce_csrf_checks=True)  # a forged post: the session, no token
        data = {name: offered[-1] if offered else "x" for name, offered in form.fields.items()}
        assert client.post(form.action, data).status_code == 403, str(form)
    assert state() == before
