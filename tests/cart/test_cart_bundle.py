"""Adding a bundle ("Frequently bought together"): one unit of each product, in one transaction, page and API."""
from datetime import UTC, datetime, timedelta

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from cart import services
from cart.errors import CartError, CartErrorCode
from cart.models import Cart, CartLine, Reservation
from catalog import stock as stock_api
from catalog.models import Inventory
from tests.factories import UserFactory, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def reserved(product):
    return sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True))


def lines():
    return dict(CartLine.objects.values_list("product__title", "quantity"))


def held():
    return sorted(Reservation.objects.values_list("product__title", "quantity", "reserved_until"))


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


@pytest.fixture
def trio():
    prices = {"Camera": "249.00", "Cable": "9.99", "Lens": "120.50"}
    return [stocked_product(5, title=title, price=price) for title, price in prices.items()]


def test_each_product_is_reserved_once_in_the_cart_line_and_the_stock(trio):
    cart = services.get_or_create_cart(user=UserFactory(password=None)).pk

    changes = services.add_bundle(cart, [product.pk for product in trio], now=NOW)

    assert [(change.title, change.requested, change.added, change.quantity, change.short) for change in changes] == [
        ("Camera", 1, 1, 1, False), ("Cable", 1, 1, 1, False), ("Lens", 1, 1, 1, False),
    ]
    assert lines() == {"Camera": 1, "Cable": 1, "Lens": 1}
    until = NOW + timedelta(minutes=30)
    assert held() == [("Cable", 1, until), ("Camera", 1, until), ("Lens", 1, until)]
    assert [reserved(product) for product in trio] == [1, 1, 1]
    assert sorted(map(str, CartLine.objects.values_list("unit_price", flat=True))) == ["120.50", "249.00", "9.99"]
    assert stock_invariant_violations() == []


def test_the_stock_of_the_whole_bundle_is_locked_in_one_call(trio, monkeypatch):
    calls = []
    real_lock = stock_api.lock
    monkeypatch.setattr(stock_api, "lock", lambda ids, **options: calls.append(set(ids)) or real_lock(ids, **options))

    services.add_bundle(services.get_or_create_cart().pk, [trio[2].pk, trio[0].pk, trio[1].pk], now=NOW)

    assert calls == [{product.pk for product in trio}]


def test_a_product_out_of_stock_is_reported_and_the_others_are_still_reserved(trio):
    camera, cable, lens = trio
    services.add_to_cart(services.get_or_create_cart().pk, cable.pk, 5, now=NOW)  # someone holds every cable
    cart = services.get_or_create_cart().pk

    changes = services.add_bundle(cart, [camera.pk, cable.pk, lens.pk], now=NOW)

    assert [(change.title, change.added, change.quantity, change.short) for change in changes] == [
        ("Camera", 1, 1, False), ("Cable", 0, 0, True), ("Lens", 1, 1, False),
    ]
    assert dict(CartLine.objects.filter(cart_id=cart).values_list("product__title", "quantity")) == {"Camera": 1, "Lens": 1}
    assert [reserved(product) for product in trio] == [1, 5, 1]
    assert stock_invariant_violations() == []


def test_a_product_already_in_the_cart_gets_one_more_up_to_the_line_limit(trio):
    camera, cable, _ = trio
    cart = services.get_or_create_cart().pk
    services.add_to_cart(cart, camera.pk, 2, now=NOW)
    many_cables = stocked_product(20, title="Spare cable")
    services.add_to_cart(cart, many_cables.pk, 10, now=NOW)

    first, second = services.add_bundle(cart, [camera.pk, many_cables.pk], now=NOW)

    assert (first.added, first.quantity, first.limited) == (1, 3, False)
    assert (second.added, second.quantity, second.limited, second.short) == (0, 10, True, False)
    assert reserved(camera) == 3 and reserved(many_cables) == 10


def test_a_visitors_cap_is_reported_on_the_products_it_cut(settings, trio):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 2
    cart = services.get_or_create_cart(client="one-address").pk

    changes = services.add_bundle(cart, [product.pk for product in trio], now=NOW)

    assert [(change.added, change.held_cap, change.short) for change in changes] == [
        (1, False, False), (1, False, False), (0, True, False),
    ]
    assert sum(Reservation.objects.values_list("quantity", flat=True)) == 2


@pytest.mark.parametrize(
    "product_ids, code, message",
    [
        ([], CartErrorCode.INVALID_BUNDLE, "Choose the products to add."),
        (None, CartErrorCode.INVALID_BUNDLE, "Choose the products to add."),
        ("12", CartErrorCode.INVALID_BUNDLE, "Choose the products to add."),
        ("twice", CartErrorCode.INVALID_BUNDLE, "Each product can be added only once."),
        ("four", CartErrorCode.INVALID_BUNDLE, "At most 3 products can be added at once."),
        ("unknown", CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ("inactive", CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ([0], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ([True], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        (["1"], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ([2**63], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
    ],
)
def test_a_bundle_the_cart_cannot_take_is_refused_whole_and_changes_nothing(trio, product_ids, code, message):
    camera, cable, lens = trio
    retired = stocked_product(5, is_active=False)
    named = {
        "twice": [camera.pk, cable.pk, camera.pk],
        "four": [camera.pk, cable.pk, lens.pk, stocked_product(5).pk],
        "unknown": [camera.pk, 987654],
        "inactive": [camera.pk, cable.pk, retired.pk],
    }
    product_ids = named.get(product_ids, product_ids) if isinstance(product_ids, str) else product_ids
    cart = services.get_or_create_cart().pk

    with pytest.raises(CartError) as refused:
        services.add_bundle(cart, product_ids, now=NOW)

    assert (refused.value.code, str(refused.value)) == (code, message)
    assert not CartLine.objects.exists() and not Reservation.objects.exists()
    assert set(Inventory.objects.values_list("reserved", flat=True)) == {0}


def test_a_failure_half_way_through_writes_nothing(trio, monkeypatch):
    real_add = services._add_units
    added = []

    def fail_on_the_second(work, cart_id, product_id, *args):
        if added:
            raise RuntimeError("the database went away")
        added.append(product_id)
        return real_add(work, cart_id, product_id, *args)

    monkeypatch.setattr(services, "_add_units", fail_on_the_second)

    with pytest.raises(RuntimeError):
        services.add_bundle(services.get_or_create_cart().pk, [product.pk for product in trio], now=NOW)

    assert added == [trio[0].pk]
    assert not CartLine.objects.exists() and not Reservation.objects.exists()
    assert stock_invariant_violations() == []


# The page's form


def post_bundle(client, products, *, back=None, **extra):
    data = {"product": [product.pk if hasattr(product, "pk") else product for product in products], **extra}
    if back is not None:
        data["next"] = back.get_absolute_url()
    return client.post("/cart/add-bundle/", data, follow=True)


def test_the_form_adds_all_and_shows_the_cart_with_a_message_per_product(client, trio):
    response = post_bundle(client, trio, back=trio[0])

    assert response.redirect_chain[-1][0] == "/cart/"
    assert page_messages(response) == [
        "Added 1 × Camera to your cart.", "Added 1 × Cable to your cart.", "Added 1 × Lens to your cart.",
    ]
    assert "$379.49" in response.content.decode()  # the cart's subtotal
    assert lines() == {"Camera": 1, "Cable": 1, "Lens": 1}
    assert Cart.objects.get().pk == client.session["cart_id"]  # the visitor's cart, as a single add makes it


def test_the_form_says_which_product_was_out_of_stock(client, trio):
    camera, cable, lens = trio
    services.add_to_cart(services.get_or_create_cart().pk, lens.pk, 5)

    response = post_bundle(client, trio, back=camera)

    assert response.redirect_chain[-1][0] == "/cart/"
    assert page_messages(response) == [
        "Added 1 × Camera to your cart.", "Added 1 × Cable to your cart.", "Out of stock — we could not add Lens.",
    ]
    assert reserved(lens) == 5 and stock_invariant_violations() == []


def test_nothing_added_returns_to_the_product_page(client, trio):
    camera, cable, _ = trio
    for product in (camera, cable):
        services.add_to_cart(services.get_or_create_cart().pk, product.pk, 5)

    response = post_bundle(client, [camera, cable], back=camera)

    assert response.redirect_chain[-1][0] == camera.get_absolute_url()
    assert page_messages(response) == ["Out of stock — we could not add Camera.", "Out of stock — we could not add Cable."]


def test_the_cap_is_said_once_for_the_bundle(client, settings, trio):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 1

    response = post_bundle(client, trio, back=trio[0])

    assert page_messages(response) == [
        "Without signing in, your carts can hold at most 1 items together — we added 1. Sign in to add more.",
        "Added 1 × Camera to your cart.",
    ]


@pytest.mark.parametrize(
    "sent, message",
    [
        ([], "Choose the products to add."),
        (["abc"], "One of these products is not available."),
        (["1\x00"], "One of these products is not available."),
        (["9" * 5000], "One of these products is not available."),
        (["-1"], "One of these products is not available."),
        (["987654"], "One of these products is not available."),
        ("twice", "Each product can be added only once."),
        ("four", "At most 3 products can be added at once."),
    ],
)
def test_bad_input_gets_a_clear_message_and_changes_nothing(client, trio, sent, message):
    if isinstance(sent, str):
        sent = {"twice": [trio[0], trio[0]], "four": [*trio, stocked_product(5)]}[sent]

    response = post_bundle(client, sent, back=trio[0])

    assert response.status_code == 200
    assert page_messages(response) == [message]
    assert response.redirect_chain[-1][0] == trio[0].get_absolute_url()
    assert not CartLine.objects.exists() and not Reservation.objects.exists()


def test_the_form_needs_post_and_the_csrf_token(trio):
    browser = Client(enforce_csrf_checks=True)
    assert browser.get("/cart/add-bundle/").status_code == 405
    assert browser.post("/cart/add-bundle/", {"product": [trio[0].pk]}).status_code == 403
    assert not CartLine.objects.exists()


def test_a_bundle_counts_as_one_add_against_the_limit(client, settings, trio):
    settings.RATELIMIT_CART_ADD_IP = "2/min"
    post_bundle(client, trio)
    post_bundle(client, trio)

    refused = post_bundle(client, trio, back=trio[0])

    assert page_messages(refused)[0].startswith("Too many additions to the cart. Please wait")
    assert lines() == {"Camera": 2, "Cable": 2, "Lens": 2}


# The API


def api_bundle(client, products, **extra):
    body = {"products": [product.pk for product in products]} if isinstance(products, list) else products
    return client.post("/api/cart/bundle/", body, content_type="application/json", **extra)


def test_the_api_adds_the_bundle_and_answers_each_change_and_the_cart(client, trio):
    camera, cable, lens = trio
    services.add_to_cart(services.get_or_create_cart().pk, cable.pk, 5)

    response = api_bundle(client, trio)

    assert response.status_code == 200
    body = response.json()
    assert [(change["title"], change["added"], change["short"]) for change in body["changes"]] == [
        ("Camera", 1, False), ("Cable", 0, True), ("Lens", 1, False),
    ]
    assert [line["product"]["id"] for line in body["cart"]["lines"]] == [camera.pk, lens.pk]
    assert body["cart"]["subtotal"] == "369.50"
    assert [reserved(product) for product in trio] == [1, 5, 1]


@pytest.mark.parametrize(
    "body, code",
    [
        ({"products": []}, "invalid_bundle"),
        ("twice", "invalid_bundle"),
        ("four", "invalid_bundle"),
        ({"products": [987654]}, "not_available"),
        ({"products": [2**70]}, "not_available"),
    ],
)
def test_the_api_refuses_a_bad_bundle_with_a_code(client, trio, body, code):
    if isinstance(body, str):
        body = {
            "twice": {"products": [trio[0].pk, trio[0].pk]},
            "four": {"products": [*(product.pk for product in trio), stocked_product(5).pk]},
        }[body]

    response = api_bundle(client, body)

    assert response.status_code == 400
    assert response.json()["code"] == code
    assert not CartLine.objects.exists()


@pytest.mark.parametrize("body", [{}, {"products": "1"}, {"products": ["abc"]}, {"products": [None]}, {"products": [0]}])
def test_the_api_answers_malformed_input_by_field(client, body):
    response = api_bundle(client, body)

    assert response.status_code == 400
    assert [field.split(".")[0] for field in response.json()["errors"]] == ["products"]


def test_the_api_needs_a_visitors_csrf_token_and_names_a_token_holders_cart(trio):
    browser = Client(enforce_csrf_checks=True)
    assert api_bundle(browser, trio).status_code == 403
    assert not CartLine.objects.exists()

    user = UserFactory(password=None)
    token = Token.objects.create(user=user).key
    response = api_bundle(browser, trio, headers={"Authorization": f"Token {token}"})
    assert response.status_code == 200
    assert Cart.objects.get(user=user).lines.count() == 3


def test_the_api_shares_the_add_limit(client, settings, trio):
    settings.RATELIMIT_CART_ADD_IP = "1/min"
    assert api_bundle(client, trio).status_code == 200

    refused = api_bundle(client, trio)

    assert refused.status_code == 429 and refused.json()["code"] == "throttled"
    assert int(refused["Retry-After"]) >= 1
