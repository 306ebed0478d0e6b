"""The product page's buying box and rating line: quantities an add can take, and no "0.0" for an unrated product."""
import re
from datetime import timedelta

import pytest
from django.utils import timezone

from cart.models import Reservation
from tests.factories import UserFactory, stocked_product

pytestmark = pytest.mark.django_db


def quantity_options(client, product) -> list[int]:
    body = client.get(product.get_absolute_url()).content.decode()
    select = re.search(r'<select id="add-quantity" name="quantity">(.*?)</select>', body, re.S)
    return [int(value) for value in re.findall(r'<option value="(\d+)">', select.group(1))] if select else []


def add(client, product, quantity):
    return client.post("/cart/add/", {"product": product.pk, "quantity": quantity, "next": product.get_absolute_url()})


def test_a_product_with_three_left_offers_one_to_three(client):
    assert quantity_options(client, stocked_product(2, 1)) == [1, 2, 3]


def test_plenty_of_stock_offers_up_to_the_line_limit(client, settings):
    settings.CART_MAX_LINE_QUANTITY = 6
    assert quantity_options(client, stocked_product(50)) == [1, 2, 3, 4, 5, 6]


def test_what_the_cart_holds_counts_against_the_line_limit(client):
    product = stocked_product(50)
    add(client, product, 7)

    assert quantity_options(client, product) == [1, 2, 3]  # 7 + 3 = the limit of 10


def test_a_cart_holding_the_last_units_offers_what_is_still_free(client):
    product = stocked_product(5)
    add(client, product, 3)

    assert quantity_options(client, product) == [1, 2]


def test_the_carts_own_lapsed_hold_is_not_offered_again(client):
    user = UserFactory(password=None)
    client.force_login(user)
    product = stocked_product(5)
    add(client, product, 3)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))

    # The lapsed 3 count as free for anyone, yet the next add holds them for this cart again.
    assert quantity_options(client, product) == [1, 2]


def test_a_full_line_says_so_instead_of_a_select(client):
    product = stocked_product(50)
    add(client, product, 10)

    body = client.get(product.get_absolute_url()).content.decode()
    assert 'action="/cart/add/"' not in body
    assert "Your cart already holds as many of these as can be added." in body


def test_a_sold_out_product_has_no_select_nor_button(client):
    product = stocked_product(0)
    body = client.get(product.get_absolute_url()).content.decode()
    assert "Out of stock" in body
    assert quantity_options(client, product) == [] and "Add to cart" not in body
    assert "as can be added" not in body


def test_a_rated_product_shows_its_average_and_rating_count(client):
    product = stocked_product(5, rating="4.5", review_count=120)
    body = client.get(product.get_absolute_url()).content.decode()
    assert "4.5 out of 5 ★" in body and "120 ratings" in body and "120 global ratings" in body


def test_an_unrated_product_shows_no_ratings_yet_and_no_zero(client):
    product = stocked_product(5, title="Brand New Kettle")
    body = client.get(product.get_absolute_url()).content.decode()
    assert "No ratings yet" in body
    assert "0.0" not in body and "out of 5" not in body and "global rating" not in body


def test_cards_of_unrated_products_say_nothing_of_ratings(client):
    stocked_product(5, title="Unrated Teapot")
    stocked_product(5, title="Rated Teapot", rating="4.2", review_count=8)
    body = client.get("/search/?q=teapot").content.decode()
    cards = {re.sub(r"<[^>]+>", "", re.search(r'card-title">(.*?)</span>', card).group(1)): card
             for card in re.findall(r'<li class="card">.*?</li>', body, re.S)}
    assert '<span class="rating" title="4.2 out of 5">4.2 ★ <span class="muted">(8)</span>' in cards["Rated Teapot"]
    assert 'class="rating"' not in cards["Unrated Teapot"] and "★" not in cards["Unrated Teapot"]
    assert "0.0" not in body
