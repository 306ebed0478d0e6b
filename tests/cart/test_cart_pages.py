"""What a shopper sees of the cart: product page form, cart page, header, log-in merge."""
import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from cart import services
from cart.models import CartLine, Reservation
from catalog.models import Inventory
from tests.factories import PASSWORD, UserFactory, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db

QUANTITY_ERROR = "Quantity must be a whole number from 1 to 10."
LINE_QUANTITY_ERROR = "Quantity must be a whole number from 0 to 10."  # a line's new quantity: 0 removes it


def add(client, product, quantity, **extra):
    data = {"product": product.pk, "quantity": quantity, "next": product.get_absolute_url(), **extra}
    return client.post("/cart/add/", data, follow=True)


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


def header_count(response):
    return int(re.search(r'class="cart-count">(\d+)<', response.content.decode()).group(1))


def reserved(product):
    return sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True))


def test_product_page_has_an_add_to_cart_form_only_when_in_stock(client):
    in_stock, sold_out = stocked_product(3), stocked_product(0)
    body = client.get(in_stock.get_absolute_url()).content.decode()
    assert 'action="/cart/add/"' in body and 'name="quantity"' in body
    assert '<option value="3">3</option>' in body and '<option value="4">' not in body  # all that is left
    assert 'action="/cart/add/"' not in client.get(sold_out.get_absolute_url()).content.decode()


def test_adding_shows_the_cart_with_prices_subtotal_and_time_held(client):
    kettle = stocked_product(20, title="Blue Kettle", price="24.50")
    mug = stocked_product(20, title="Mug", price="3.25")

    add(client, kettle, 2)
    response = add(client, mug, 3)

    body = response.content.decode()
    assert response.redirect_chain[-1][0] == "/cart/"
    assert "Added 3 × Mug to your cart." in page_messages(response)
    for text in ("Blue Kettle", "$24.50", "$49.00", "$9.75", "$58.75", "Subtotal (5 items)"):
        assert text in body, text
    assert re.search(r"Held for you for (9|10)\xa0minutes", body)  # a visitor's hold; an account's is 30
    assert str(response.context["cart"].subtotal) == "58.75"


def test_short_stock_says_how_many_were_added(client):
    product = stocked_product(2)
    response = add(client, product, 5)
    assert "Only 2 left — we added 2" in page_messages(response)
    assert CartLine.objects.get().quantity == 2


def test_out_of_stock_is_a_message_not_an_error_page(client):
    product = stocked_product(1)
    services.add_to_cart(services.get_or_create_cart().pk, product.pk, 1)

    response = add(client, product, 1)

    assert response.status_code == 200
    assert "Out of stock" in page_messages(response)
    assert not CartLine.objects.exclude(quantity=1).exists() and CartLine.objects.count() == 1


@pytest.mark.parametrize("quantity", ["abc", "0", "11", "-1", "", "2.5", "1e1"])
def test_bad_quantities_get_a_clear_message_and_change_nothing(client, quantity):
    product = stocked_product(20)
    response = add(client, product, quantity)
    assert response.status_code == 200
    assert page_messages(response) == [QUANTITY_ERROR]
    assert response.redirect_chain[-1][0] == product.get_absolute_url()
    assert not CartLine.objects.exists() and reserved(product) == 0


@pytest.mark.parametrize("product_id", ["987654", "abc", "", str(2**63), "-1"])
def test_unknown_products_get_a_clear_message(client, product_id):
    response = client.post("/cart/add/", {"product": product_id, "quantity": "1"}, follow=True)
    assert response.status_code == 200
    assert page_messages(response) == ["This product is not available."]
    assert not CartLine.objects.exists()


def test_an_inactive_product_cannot_be_added(client):
    product = stocked_product(5, is_active=False)
    response = client.post("/cart/add/", {"product": product.pk, "quantity": "1"}, follow=True)
    assert page_messages(response) == ["This product is not available."]
    assert reserved(product) == 0


def test_add_does_not_redirect_off_site(client):
    product = stocked_product(5)
    response = client.post("/cart/add/", {"product": product.pk, "quantity": "x", "next": "https://evil.example/"})
    assert response["Location"] == "/cart/"


def test_changing_removing_and_emptying_from_the_cart_page(client):
    first, second = stocked_product(4, title="Lamp"), stocked_product(4, title="Rug")
    add(client, first, 1)
    add(client, second, 2)
    line = CartLine.objects.get(product=first)

    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "3"}, follow=True)
    assert "Updated Lamp: 3 in your cart." in page_messages(response)
    assert reserved(first) == 3

    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "9"}, follow=True)
    assert "Only 4 left — your cart now has 4 of Lamp." in page_messages(response)

    for bad in ("abc", "11", "-1"):  # 0 removes the line (tests/cart/test_cart_undo_and_confirm.py)
        response = client.post(f"/cart/lines/{line.pk}/", {"quantity": bad}, follow=True)
        assert page_messages(response) == [LINE_QUANTITY_ERROR]
    assert CartLine.objects.get(pk=line.pk).quantity == 4

    response = client.post(f"/cart/lines/{line.pk}/remove/", follow=True)
    assert "Removed 4 × <strong>Lamp</strong> from your cart." in response.content.decode()
    assert reserved(first) == 0 and not CartLine.objects.filter(product=first).exists()

    response = client.post("/cart/empty/", {"confirmed": "yes"}, follow=True)
    assert "Your cart is empty." in response.content.decode()
    assert reserved(second) == 0 and not CartLine.objects.exists()


def test_another_visitors_line_cannot_be_touched(client):
    product = stocked_product(5)
    owner = services.get_or_create_cart().pk
    services.add_to_cart(owner, product.pk, 2)
    line = CartLine.objects.get()
    add(client, stocked_product(5), 1)  # this visitor has a cart of their own

    for url, data in ((f"/cart/lines/{line.pk}/", {"quantity": "1"}), (f"/cart/lines/{line.pk}/remove/", {})):
        response = client.post(url, data, follow=True)
        assert page_messages(response) == ["That item is no longer in your cart."]
    assert CartLine.objects.get(pk=line.pk).quantity == 2 and reserved(product) == 2


def test_changes_need_post(client):
    assert client.get("/cart/add/").status_code == 405
    assert client.get("/cart/undo/").status_code == 405


def test_a_lapsed_line_someone_else_bought_is_flagged_on_the_cart_page(client):
    product = stocked_product(1, title="Last Lamp")
    add(client, product, 1)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))
    services.add_to_cart(services.get_or_create_cart().pk, product.pk, 1)  # another shopper gets it

    response = client.get("/cart/")

    body = response.content.decode()
    assert response.context["cart"].checkout_blocked
    assert "Your reservation lapsed" in body and "out of stock" in body
    assert "before checking out" in body
    assert stock_invariant_violations() == []


def test_an_empty_cart_page(client):
    response = client.get("/cart/")
    assert response.status_code == 200
    assert "Your cart is empty." in response.content.decode()
    assert header_count(response) == 0


def test_logging_in_merges_the_visitors_cart_into_the_account(client):
    shared, extra = stocked_product(20, title="Shared"), stocked_product(20, title="Extra")
    user = UserFactory()
    account = services.get_or_create_cart(user=user).pk
    services.add_to_cart(account, shared.pk, 6)
    add(client, shared, 7)
    add(client, extra, 2)

    response = client.post("/accounts/login/", {"username": user.username, "password": PASSWORD}, follow=True)

    assert "Shared: your carts held 13 together; we kept 10." in page_messages(response)
    assert header_count(response) == 12
    lines = dict(CartLine.objects.values_list("product__title", "cart_id"))
    assert lines == {"Shared": account, "Extra": account}
    assert (reserved(shared), reserved(extra)) == (10, 2)
    body = client.get("/cart/").content.decode()
    assert "Shared" in body and "Extra" in body


def test_a_signed_in_shopper_keeps_the_cart_across_devices(client):
    user = UserFactory()
    product = stocked_product(5)
    services.add_to_cart(services.get_or_create_cart(user=user).pk, product.pk, 2)
    client.force_login(user)
    assert header_count(client.get("/cart/")) == 2


def test_header_count_and_stock_badge_are_cached_and_cleared_on_change(client, django_capture_on_commit_callbacks):
    product = stocked_product(4)
    add(client, product, 1)
    assert header_count(client.get("/cart/")) == 1  # now cached
    assert "Only 3 left" in client.get(product.get_absolute_url()).content.decode()

    # The test database never commits: run the on-commit invalidation explicitly.
    with django_capture_on_commit_callbacks(execute=True):
        add(client, product, 1)

    assert header_count(client.get("/cart/")) == 2
    assert "Only 2 left" in client.get(product.get_absolute_url()).content.decode()


def test_changing_a_line_without_a_cart_says_so(client):
    response = client.post("/cart/lines/12345/", {"quantity": "1"}, follow=True)
    assert page_messages(response) == ["That item is no longer in your cart."]


def test_a_shopper_holding_the_last_units_is_told_they_are_in_the_cart(client):
    product = stocked_product(2)
    add(client, product, 2)

    body = client.get(product.get_absolute_url()).content.decode()
    assert "Out of stock" in body
    assert re.search(r'<a href="/cart/"[^>]*>2 in your cart</a>', body)
    another_visitor = Client()
    assert "in your cart" not in another_visitor.get(product.get_absolute_url()).content.decode()


def test_a_lapsed_line_whose_stock_is_still_free_is_not_flagged(client):
    product = stocked_product(3, title="Desk Lamp")
    add(client, product, 2)
    Reservation.objects.update(reserved_until=timezone.now() - timedelta(minutes=1))

    response = client.get("/cart/")

    line = response.context["cart"].lines[0]
    assert (line.reserved, line.is_short, response.context["cart"].checkout_blocked) == (0, False, False)
    assert "Proceed to checkout" in response.content.decode()
    assert "Your reservation lapsed" not in response.content.decode()


def test_viewing_the_cart_renews_no_hold(client):
    """Reloading the cart page (or GET /api/cart/) must not keep stock held forever: only a change does."""
    product = stocked_product(3)
    add(client, product, 2)
    soon = timezone.now() + timedelta(minutes=1)
    Reservation.objects.update(reserved_until=soon)

    client.get("/cart/")
    client.get("/api/cart/")

    assert set(Reservation.objects.values_list("reserved_until", flat=True)) == {soon}
