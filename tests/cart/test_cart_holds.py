"""How much stock visitors who are not signed in can hold, and for how long (#13 item 5).

Without limits a script could add 10 units per request from ever new sessions
and keep any product "Out of stock" for real shoppers. One client address's
visitor carts hold at most CART_MAX_HELD_UNITS_PER_CLIENT units together,
for CART_ANON_RESERVATION_MINUTES, renewed only by a change; adds are rate
limited per address.
"""
import re
from datetime import timedelta

import pytest
from django.db.models import Sum
from django.test import Client
from django.utils import timezone

from cart import selectors
from cart.models import Cart, Reservation
from tests.factories import PASSWORD, UserFactory, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db


def add(client, product, quantity, **extra):
    return client.post("/cart/add/", {"product": product.pk, "quantity": quantity}, follow=True, **extra)


def live_held():
    return Reservation.objects.filter(reserved_until__gt=timezone.now()).aggregate(n=Sum("quantity"))["n"] or 0


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


def test_many_visitor_sessions_from_one_address_hold_at_most_the_cap_and_an_account_still_buys(settings):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 20
    lamp, kettle = stocked_product(100), stocked_product(100)
    sessions = [Client() for _ in range(5)]

    for i, session in enumerate(sessions):
        add(session, lamp if i % 2 else kettle, 10)
    refused = add(sessions[0], lamp, 10)

    assert live_held() == 20
    assert Cart.objects.filter(user=None).count() == 5  # five carts, one cap
    assert "your carts can hold at most 20 items together — we could not add more" in page_messages(refused)[0]
    assert stock_invariant_violations() == []

    shopper = Client()
    shopper.post("/accounts/login/", {"username": UserFactory().username, "password": PASSWORD})
    added = add(shopper, lamp, 10)
    assert page_messages(added) == [f"Added 10 × {lamp.title} to your cart."]


def test_the_add_takes_what_fits_under_the_cap_and_says_why(settings, client):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 12
    product = stocked_product(50)
    add(Client(), product, 8)

    response = add(client, product, 10)

    assert page_messages(response) == [
        "Without signing in, your carts can hold at most 12 items together — we added 4. Sign in to add more."
    ]
    assert live_held() == 12


def test_another_address_has_its_own_cap(settings):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 10
    product = stocked_product(50)
    add(Client(REMOTE_ADDR="10.0.0.1"), product, 10)
    add(Client(REMOTE_ADDR="10.0.0.2"), product, 10)
    assert live_held() == 20


def test_lapsed_holds_are_not_renewed_past_the_cap(settings):
    """A lapsed visitor cart's next change takes its units again within the cap, not on top of it."""
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 10
    first, second, other = stocked_product(50), stocked_product(50), stocked_product(50)
    old, new = Client(), Client()
    add(old, first, 10)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))
    add(new, second, 10)  # the lapsed units do not count

    add(old, other, 1)  # a change to the old cart

    assert live_held() == 10
    assert stock_invariant_violations() == []


def test_a_change_to_the_cart_raises_the_quantity_only_within_the_cap(settings, client):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 6
    product = stocked_product(50)
    add(client, product, 2)
    add(Client(), stocked_product(50), 3)
    line = selectors.cart_detail(client.session["cart_id"]).lines[0]

    response = client.post(f"/cart/lines/{line.line_id}/", {"quantity": 9}, follow=True)

    assert "at most 6 items together — we added 1" in page_messages(response)[0]
    assert live_held() == 6


def test_a_visitors_hold_is_short_and_an_accounts_long(client):
    product = stocked_product(50)
    body = add(client, product, 1).content.decode()
    assert re.search(r"Held for you for (9|10)\xa0minutes", body)

    client.force_login(UserFactory())
    body = add(client, product, 1).content.decode()
    assert re.search(r"Held for you for (29|30)\xa0minutes", body)


def test_adds_are_rate_limited_per_address(settings, client):
    settings.RATELIMIT_CART_ADD_IP = "3/min"
    product = stocked_product(50)
    for _ in range(3):
        add(client, product, 1)

    refused = add(client, product, 1)
    api = client.post("/api/cart/lines/", {"product": product.pk, "quantity": 1}, content_type="application/json")

    assert page_messages(refused)[0].startswith("Too many additions to the cart. Please wait")
    assert api.status_code == 429 and api.json()["detail"].startswith("Too many additions")
    assert api.json()["code"] == "throttled"
    assert int(api["Retry-After"]) >= 1
    assert live_held() == 3


def test_the_api_follows_the_same_cap(settings, client):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 5
    product = stocked_product(50)
    add(Client(), product, 4)

    response = client.post("/api/cart/lines/", {"product": product.pk, "quantity": 3}, content_type="application/json")

    assert response.status_code == 200
    assert response.json()["change"]["added"] == 1 and response.json()["change"]["held_cap"] is True
    assert live_held() == 5
