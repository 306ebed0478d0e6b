"""Who may read or change what, for every route in the URL conf.

The routes are walked from ``get_resolver()``; each must have a rule in
ROUTES below, or the coverage test fails naming it. A rule is either
``Public(reason)`` (the route serves no shopper's objects, or only the
caller's own, by construction) or a list of ``Attempt``s: a request built from
objects shopper A owns, made as an anonymous visitor, as shopper B and as a
staff member, with what each role must get. A refused attempt must leave the
database as it was and must not show A's data.
"""
from dataclasses import dataclass, field
from typing import Callable

import pytest
from django.contrib.auth.models import Permission
from django.core import signing
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.authtoken.models import Token

from cart import services as cart_services
from cart.models import CartLine
from cart.undo import UNDO_SALT
from catalog.reviews.models import Review
from orders import checkout, returns, shipments
from orders.addresses import set_default
from orders.models import Address, Order, OrderEvent, Return, ReturnReason, Shipment, Status
from tests.factories import OrderFactory, OrderItemFactory, UserFactory, stocked_product

pytestmark = pytest.mark.django_db

SKIPPED_PREFIXES = ("admin/", "static/", "^static/", "media/", "^media/")
# "staff" has no permissions; "order_clerk" is staff allowed to change orders, as the admin's order actions need.
ROLES = ("anonymous", "shopper_b", "staff", "order_clerk")
SECRET_STREET = "7 Secret Street of Shopper A"
SECRET_TITLE = "Shopper A secret gadget"  # no character HTML escaping would change

# What a role gets: "login" a redirect to the log-in page, "cart" a redirect back
# to the cart (the cart pages say "That item is no longer in your cart"), a status
# code, "own" an answer about the caller's own (empty) things, "allowed" a 2xx.
LOGIN, CART, OWN, ALLOWED = "login", "cart", "own", "allowed"


@dataclass
class Attempt:
    method: str
    url: Callable[["World"], str]
    expect: dict  # role -> expectation
    data: dict | Callable[["World"], dict] = field(default_factory=dict)
    json: bool = False
    public_product: bool = False  # the answer is the (public) product page


@dataclass
class Public:
    reason: str


@dataclass
class World:
    owner: object
    line: CartLine
    order: Order  # paid: the shopper may still cancel it, staff may pack it
    product: object
    address: Address  # saved, the default
    delivered: Order  # two units of the product, one of them asked back (``ret``)
    ret: Return


ADDRESS_B = {"full_name": "Shopper B", "line1": "2 Other Road", "line2": "", "city": "Leeds",
             "postal_code": "LS1 1AA", "country": "GB", "phone": ""}


def denied(anonymous, shopper_b, staff, order_clerk=None):
    """What each role gets; the order clerk gets what plain staff get unless told otherwise."""
    return {"anonymous": anonymous, "shopper_b": shopper_b, "staff": staff,
            "order_clerk": staff if order_clerk is None else order_clerk}


ROUTES = {
    # --- Objects of shopper A addressed by id ---
    "cart-line": [Attempt("post", lambda w: f"/cart/lines/{w.line.pk}/", denied(CART, CART, CART), {"quantity": 5})],
    "cart-remove": [Attempt("post", lambda w: f"/cart/lines/{w.line.pk}/remove/", denied(CART, CART, CART))],
    # Shopper A's own undo note: it names A's cart, so it puts nothing in another's (nor in A's).
    "cart-undo": [Attempt("post", lambda w: "/cart/undo/", denied(CART, CART, CART), lambda w: {"token": signing.dumps(
        {"cart": w.line.cart_id, "product": w.line.product_id, "quantity": w.line.quantity + 1}, salt=UNDO_SALT)})],
    "api-cart-line": [
        Attempt("patch", lambda w: f"/api/cart/lines/{w.line.pk}/", denied(404, 404, 404), {"quantity": 5}, json=True),
        Attempt("delete", lambda w: f"/api/cart/lines/{w.line.pk}/", denied(404, 404, 404)),
        Attempt("get", lambda w: f"/api/cart/lines/{w.line.pk}/", denied(405, 405, 405)),
    ],
    "order": [Attempt("get", lambda w: f"/orders/{w.order.number}/", denied(LOGIN, 404, 404))],
    "order-cancel": [
        Attempt("post", lambda w: f"/orders/{w.order.number}/cancel/", denied(LOGIN, 404, 404), {"confirmed": "yes"}),
        Attempt("get", lambda w: f"/orders/{w.order.number}/cancel/", denied(LOGIN, 404, 404)),
    ],
    "api-order": [Attempt("get", lambda w: f"/api/orders/{w.order.number}/", denied(403, 404, 404))],
    "api-order-cancel": [Attempt("post", lambda w: f"/api/orders/{w.order.number}/cancel/", denied(403, 404, 404))],
    "order-return": [
        Attempt("post", lambda w: f"/orders/{w.delivered.number}/return/", denied(LOGIN, 404, 404),
                lambda w: {f"item_{w.delivered.items.get().pk}": "1", "reason": "damaged"}),
    ],
    "api-order-returns": [
        Attempt("post", lambda w: f"/api/orders/{w.delivered.number}/returns/", denied(403, 404, 404),
                lambda w: {"lines": [{"item_id": w.delivered.items.get().pk, "quantity": 1}], "reason": "damaged"}, json=True),
    ],
    "api-staff-shipment-move": [
        Attempt("post", lambda w: f"/api/staff/shipments/{w.order.shipments.get().pk}/pack/", denied(403, 403, 403, ALLOWED),
                json=True),
        Attempt("get", lambda w: f"/api/staff/shipments/{w.order.shipments.get().pk}/pack/", denied(403, 403, 403, 405)),
    ],
    "api-staff-return-move": [
        Attempt("post", lambda w: f"/api/staff/returns/{w.ret.pk}/approve/", denied(403, 403, 403, ALLOWED), json=True),
        Attempt("post", lambda w: f"/api/staff/returns/{w.ret.pk}/receive/", denied(403, 403, 403, ALLOWED),
                {"restockable": False}, json=True),
    ],
    "api-staff-order-move": [
        Attempt("post", lambda w: f"/api/staff/orders/{w.order.number}/pack/", denied(403, 403, 403, ALLOWED), json=True),
        Attempt("post", lambda w: f"/api/staff/orders/{w.order.number}/cancel/", denied(403, 403, 403, ALLOWED), json=True),
        Attempt("get", lambda w: f"/api/staff/orders/{w.order.number}/pack/", denied(403, 403, 403, 405)),
    ],
    "address-edit": [
        Attempt("get", lambda w: f"/account/addresses/{w.address.pk}/edit/", denied(LOGIN, 404, 404)),
        Attempt("post", lambda w: f"/account/addresses/{w.address.pk}/edit/", denied(LOGIN, 404, 404), ADDRESS_B),
    ],
    "address-delete": [Attempt("post", lambda w: f"/account/addresses/{w.address.pk}/delete/", denied(LOGIN, 404, 404))],
    "address-default": [Attempt("post", lambda w: f"/account/addresses/{w.address.pk}/default/", denied(LOGIN, 404, 404))],
    "product-review": [
        # Only a shopper with a delivered order of the product may review it; A's order is only paid.
        Attempt("post", lambda w: f"/p/{w.product.pk}/reviews/new/", denied(LOGIN, 200, 200), {"rating": 5, "body": "Great"},
                public_product=True),
    ],
    # --- The caller's own things, found through the session or the account: never A's ---
    "cart": [Attempt("get", lambda w: "/cart/", denied(OWN, OWN, OWN))],
    "cart-empty": [Attempt("post", lambda w: "/cart/empty/", denied(CART, CART, CART), {"confirmed": "yes"})],
    "api-cart": [Attempt("get", lambda w: "/api/cart/", denied(OWN, OWN, OWN))],
    "orders": [Attempt("get", lambda w: "/orders/", denied(LOGIN, OWN, OWN))],
    "account": [Attempt("get", lambda w: "/account/", denied(LOGIN, OWN, OWN))],
    "account-name": [Attempt("post", lambda w: "/account/name/", denied(LOGIN, 302, 302), {"first_name": "B"})],
    "account-email": [Attempt("post", lambda w: "/account/email/", denied(LOGIN, 302, 302), {"email": "b@example.org"})],
    "account-token-revoke": [Attempt("post", lambda w: "/account/token/revoke/", denied(LOGIN, 302, 302))],
    "addresses": [
        Attempt("get", lambda w: "/account/addresses/", denied(LOGIN, OWN, OWN)),
        Attempt("post", lambda w: "/account/addresses/", denied(LOGIN, 302, 302), ADDRESS_B),
    ],
    "api-orders": [Attempt("get", lambda w: "/api/orders/", denied(403, OWN, OWN))],
    "checkout": [Attempt("get", lambda w: "/checkout/", denied(LOGIN, CART, CART))],
    "checkout-review": [
        Attempt("get", lambda w: "/checkout/review/", denied(LOGIN, CART, CART)),
        Attempt("post", lambda w: "/checkout/review/", denied(LOGIN, CART, CART)),
    ],
    "api-checkout": [
        Attempt("get", lambda w: "/api/checkout/", denied(403, OWN, OWN)),
        Attempt("post", lambda w: "/api/checkout/", denied(403, 400, 400), json=True),
    ],
    "api-recommendations": [Attempt("get", lambda w: "/api/recommendations/", denied(OWN, OWN, OWN))],
    # --- No shopper's objects ---
    "healthz": Public("operations probe"),
    "readyz": Public("operations probe"),
    "prometheus-django-metrics": Public("operations metrics; aggregate counters, no shopper data"),
    "favicon": Public("a redirect to the static icon"),
    "signup": Public("creates the caller's own account"),
    "email-confirm": Public("needs the signed link mailed to the address; confirms that address only"),
    "login": Public("the caller's own session"),
    "logout": Public("the caller's own session"),
    "password_change": Public("the caller's own password (login required by Django)"),
    "password_change_done": Public("a static confirmation"),
    "password_reset": Public("sends a mail to the address's owner only"),
    "password_reset_done": Public("a static confirmation"),
    "password_reset_confirm": Public("needs the token mailed to the owner"),
    "password_reset_complete": Public("a static confirmation"),
    "cart-add": Public("adds to the caller's own cart"),
    "cart-add-bundle": Public("adds to the caller's own cart"),
    "api-cart-lines": Public("adds to the caller's own cart"),
    "api-cart-bundle": Public("adds to the caller's own cart"),
    "api-schema": Public("the API description"),
    "api-docs": Public("the API description"),
    "api-token": Public("the caller's own token, given their password"),
    "api-product-recommendations": Public("catalog data"),
    "api-product-bought-together": Public("catalog data"),
    "home": Public("catalog data (recently viewed is the caller's own session)"),
    "search": Public("catalog data"),
    "product-image": Public("catalog data: the drawn picture of an active product"),
    "search-suggest": Public("catalog data"),
    "api-search": Public("catalog data"),
    "api-search-suggest": Public("catalog data"),
    "api-products": Public("catalog data"),
    "api-product": Public("catalog data"),
    "category": Public("catalog data"),
    "product-short": Public("catalog data"),
    "product": Public("catalog data"),
    "^api/": Public("the API's 404 for any other path"),
}


def walk(patterns, prefix=""):
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(SKIPPED_PREFIXES) or "drf_format_suffix" in route:
            continue
        if isinstance(entry, URLResolver):
            yield from walk(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield entry.name or route, route


def test_every_route_has_an_access_rule():
    found = dict(walk(get_resolver().url_patterns))
    missing = sorted(f"{name} ({route})" for name, route in found.items() if name not in ROUTES)
    assert not missing, "Routes without a rule in tests/site/test_access_control.py ROUTES: " + ", ".join(missing)
    stale = sorted(set(ROUTES) - set(found))
    assert not stale, "Rules for routes that no longer exist: " + ", ".join(stale)


@pytest.fixture
def world():
    owner = UserFactory()
    product = stocked_product(10, title=SECRET_TITLE)
    cart = cart_services.get_or_create_cart(user=owner)
    cart_services.add_to_cart(cart.pk, product.pk, 2)
    address = checkout.save_address(
        user=owner,
        data={"full_name": "Shopper A", "line1": SECRET_STREET, "line2": "", "city": "London",
              "postal_code": "N1 9GU", "country": "GB", "phone": ""},
    )
    shipping_address = {"full_name": "Shopper A", "line1": SECRET_STREET, "line2": "", "city": "London",
                        "postal_code": "N1 9GU", "country": "GB", "phone": ""}
    order = OrderFactory(user=owner, status=Status.PAID, shipping_address=shipping_address)
    OrderItemFactory(order=order, product=product)
    shipments.create_for(order)
    delivered = OrderFactory(user=owner, status=Status.DELIVERED, shipping_address=shipping_address)
    OrderItemFactory(order=delivered, product=product, quantity=2)
    OrderEvent.objects.create(order=delivered, from_status=Status.SHIPPED, to_status=Status.DELIVERED)
    ret = returns.request_return(
        user=owner, order_id=delivered.pk, quantities={delivered.items.get().pk: 1}, reason=ReturnReason.UNWANTED
    )
    set_default(user=owner, address_id=address.pk)
    Token.objects.create(user=owner)
    return World(owner=owner, line=CartLine.objects.get(cart=cart), order=order, product=product, address=address,
                 delivered=delivered, ret=ret)


def client_for(role):
    client = Client()
    if role == "shopper_b":
        client.force_login(UserFactory())
    elif role == "staff":
        client.force_login(UserFactory(is_staff=True))
    elif role == "order_clerk":
        clerk = UserFactory(is_staff=True)
        clerk.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="change_order"))
        client.force_login(clerk)
    return client


def snapshot(world):
    line = CartLine.objects.filter(pk=world.line.pk).values_list("quantity", flat=True).first()
    owner = type(world.owner).objects.get(pk=world.owner.pk)
    return (
        line, Order.objects.get(pk=world.order.pk).status, Review.objects.count(), Order.objects.count(),
        list(Address.objects.filter(user=owner).values()), Token.objects.filter(user=owner).exists(),
        (owner.first_name, owner.email), list(owner.email_addresses.values()),
        list(Shipment.objects.values_list("pk", "status")), list(Return.objects.values_list("pk", "status")),
    )


ATTEMPTS = [
    pytest.param(name, index, role, id=f"{name}-{attempt.method}-{role}")
    for name, rule in ROUTES.items()
    if not isinstance(rule, Public)
    for index, attempt in enumerate(rule)
    for role in ROLES
]


@pytest.mark.parametrize("name, index, role", ATTEMPTS)
def test_others_cannot_read_or_change_a_shoppers_objects(world, name, index, role):
    attempt = ROUTES[name][index]
    expect = attempt.expect[role]
    client = client_for(role)
    before = snapshot(world)
    kwargs = {"content_type": "application/json"} if attempt.json else {}
    data = attempt.data(world) if callable(attempt.data) else attempt.data
    response = getattr(client, attempt.method)(attempt.url(world), data, **kwargs)

    if expect == ALLOWED:  # the rule is not vacuous: the route does reach the object
        assert 200 <= response.status_code < 300, response.content[:300]
        assert snapshot(world) != before
        return
    if expect == LOGIN:
        assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    elif expect == CART:
        assert response.status_code == 302 and response["Location"] == "/cart/"
    elif expect == OWN:
        assert response.status_code == 200
    else:
        assert response.status_code == expect, (response.status_code, response.content[:300])
    assert snapshot(world) == before, "a refused request changed the database"
    body = response.content.decode(errors="replace")
    token = Token.objects.filter(user=world.owner).values_list("key", flat=True).first()
    secrets = (SECRET_STREET, world.order.number, world.delivered.number) + (() if attempt.public_product else (SECRET_TITLE,)) + (
        (token,) if token else ()
    )
    for secret in secrets:
        assert secret not in body, f"{name} shows shopper A's data ({secret!r}) to {role}"


def test_the_owner_does_reach_the_objects(world):
    """The same requests as the owner succeed, so a refusal above is about the role, not a broken URL."""
    client = Client()
    client.force_login(world.owner)
    assert SECRET_STREET in client.get(f"/orders/{world.order.number}/").content.decode()
    assert client.get(f"/api/orders/{world.order.number}/").json()["number"] == world.order.number
    assert client.patch(
        f"/api/cart/lines/{world.line.pk}/", {"quantity": 3}, content_type="application/json"
    ).status_code == 200
    assert client.post(f"/cart/lines/{world.line.pk}/", {"quantity": 1}).status_code == 302
    assert CartLine.objects.get(pk=world.line.pk).quantity == 1
    assert client.post(f"/orders/{world.order.number}/cancel/", {"confirmed": "yes"}).status_code == 302
    assert Order.objects.get(pk=world.order.pk).status == Status.CANCELLED
