"""Undo after a removal, quantity 0 removes a line, "Are you sure?" before emptying, and the lines' pictures."""
import re
from datetime import timedelta

import pytest
from django.core import signing
from django.urls import reverse

from cart import services, undo
from cart.models import CartLine, Reservation
from catalog.models import Inventory
from tests.factories import stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db


def add(client, product, quantity):
    client.post("/cart/add/", {"product": product.pk, "quantity": quantity}, follow=True)  # its message shown
    return CartLine.objects.get(product=product)


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


def reserved(product):
    return sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True))


def undo_token(response) -> str:
    return re.search(r'name="token" value="([^"]+)"', response.content.decode()).group(1)


def test_a_removal_names_the_item_and_undo_puts_the_same_quantity_back_once(client):
    lamp = stocked_product(10, title="Lamp")
    line = add(client, lamp, 3)

    removed = client.post(f"/cart/lines/{line.pk}/remove/", follow=True)
    assert "Removed 3 × <strong>Lamp</strong> from your cart." in removed.content.decode()
    assert reserved(lamp) == 0 and not CartLine.objects.exists()
    token = undo_token(removed)

    back = client.post("/cart/undo/", {"token": token}, follow=True)
    assert page_messages(back) == ["Lamp is back in your cart (3)."]
    assert CartLine.objects.get(product=lamp).quantity == 3 and reserved(lamp) == 3
    assert "Removed" not in back.content.decode()  # the note is shown once

    # A second click (or the back button) sends the same note: nothing more is added.
    again = client.post("/cart/undo/", {"token": token}, follow=True)
    assert page_messages(again) == ["Lamp is already back in your cart."]
    assert CartLine.objects.get(product=lamp).quantity == 3 and reserved(lamp) == 3
    assert stock_invariant_violations() == []


def test_an_undo_reserves_what_is_left_and_says_so(client):
    lamp = stocked_product(4, title="Lamp")
    line = add(client, lamp, 3)
    token = undo_token(client.post(f"/cart/lines/{line.pk}/remove/", follow=True))
    services.add_to_cart(services.get_or_create_cart().pk, lamp.pk, 2)  # another shopper takes two

    back = client.post("/cart/undo/", {"token": token}, follow=True)

    assert page_messages(back) == ["Only 2 of Lamp could be put back: the rest was bought meanwhile."]
    assert CartLine.objects.get(cart_id=client.session["cart_id"]).quantity == 2
    assert reserved(lamp) == 4 and stock_invariant_violations() == []


def test_an_undo_of_a_sold_out_item_adds_nothing(client):
    lamp = stocked_product(1, title="Lamp")
    line = add(client, lamp, 1)
    token = undo_token(client.post(f"/cart/lines/{line.pk}/remove/", follow=True))
    other = services.get_or_create_cart().pk
    services.add_to_cart(other, lamp.pk, 1)

    back = client.post("/cart/undo/", {"token": token}, follow=True)

    assert page_messages(back) == ["Lamp is out of stock now, so it could not be put back."]
    assert list(CartLine.objects.values_list("cart_id", flat=True)) == [other]


@pytest.mark.parametrize(
    "token",
    [
        "",
        "made-up",
        signing.dumps({"cart": 987654, "product": 1, "quantity": 2}, salt=undo.UNDO_SALT),  # another cart
        signing.dumps({"cart": 1, "product": 1, "quantity": 2}, salt="another purpose"),
    ],
)
def test_an_undo_that_is_not_this_carts_changes_nothing(client, token):
    lamp = stocked_product(10, title="Lamp")
    add(client, lamp, 1)

    response = client.post("/cart/undo/", {"token": token}, follow=True)

    assert response.status_code == 200
    assert page_messages(response) in (
        ["There is nothing to undo."], ["This removal can no longer be undone. Add the item again from its page."],
    )
    assert CartLine.objects.get().quantity == 1 and reserved(lamp) == 1


def test_an_undo_note_runs_out(client, monkeypatch):
    lamp = stocked_product(10, title="Lamp")
    line = add(client, lamp, 2)
    token = undo_token(client.post(f"/cart/lines/{line.pk}/remove/", follow=True))
    monkeypatch.setattr(undo, "UNDO_MAX_AGE", timedelta(seconds=-1))

    response = client.post("/cart/undo/", {"token": token}, follow=True)

    assert page_messages(response) == ["This removal can no longer be undone. Add the item again from its page."]
    assert not CartLine.objects.exists() and reserved(lamp) == 0


def test_an_undo_of_a_product_no_longer_sold_says_so(client):
    lamp = stocked_product(10, title="Lamp")
    line = add(client, lamp, 2)
    token = undo_token(client.post(f"/cart/lines/{line.pk}/remove/", follow=True))
    lamp.is_active = False
    lamp.save()

    response = client.post("/cart/undo/", {"token": token}, follow=True)

    assert page_messages(response) == ["This product is no longer sold, so it could not be put back."]
    assert not CartLine.objects.exists()


def test_a_quantity_of_0_removes_the_line_with_its_undo(client):
    lamp, rug = stocked_product(10, title="Lamp"), stocked_product(10, title="Rug")
    line = add(client, lamp, 4)
    add(client, rug, 1)

    response = client.post(f"/cart/lines/{line.pk}/", {"quantity": "0"}, follow=True)

    assert "Removed 4 × <strong>Lamp</strong> from your cart." in response.content.decode()
    assert page_messages(response) == []  # the note says it; no second message
    assert not CartLine.objects.filter(product=lamp).exists() and reserved(lamp) == 0
    assert 'min="0"' in response.content.decode()
    client.post("/cart/undo/", {"token": undo_token(response)})
    assert CartLine.objects.get(product=lamp).quantity == 4


def test_the_api_removes_a_line_set_to_0_and_answers_the_cart(client):
    lamp, rug = stocked_product(10, title="Lamp"), stocked_product(10, title="Rug")
    line = add(client, lamp, 4)
    add(client, rug, 1)

    response = client.patch(f"/api/cart/lines/{line.pk}/", {"quantity": 0}, content_type="application/json")

    assert response.status_code == 200
    body = response.json()
    assert body["change"]["quantity"] == 0 and body["change"]["requested"] == 0
    assert [line["product"]["title"] for line in body["cart"]["lines"]] == ["Rug"]
    assert reserved(lamp) == 0 and not Reservation.objects.filter(product=lamp).exists()
    # The line is gone: a second PATCH finds nothing.
    assert client.patch(f"/api/cart/lines/{line.pk}/", {"quantity": 0}, content_type="application/json").status_code == 404


@pytest.mark.parametrize("quantity", [-1, 11, "x", None])
def test_the_api_still_refuses_other_quantities(client, quantity):
    lamp = stocked_product(10)
    line = add(client, lamp, 2)
    response = client.patch(f"/api/cart/lines/{line.pk}/", {"quantity": quantity}, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["errors"] == {"quantity": ["Quantity must be a whole number from 0 to 10."]}
    assert CartLine.objects.get().quantity == 2


def test_emptying_asks_first_and_only_a_confirmed_post_empties(client):
    lamp = stocked_product(10, title="Lamp")
    add(client, lamp, 2)
    cart = client.get("/cart/").content.decode()
    assert 'data-confirm="Remove every item from your cart?"' in cart

    for response in (client.get("/cart/empty/"), client.post("/cart/empty/")):
        body = response.content.decode()
        assert response.status_code == 200 and "Are you sure?" in body and "all 2 items" in body
        assert 'name="confirmed" value="yes"' in body
    assert CartLine.objects.exists() and reserved(lamp) == 2

    response = client.post("/cart/empty/", {"confirmed": "yes"}, follow=True)
    assert page_messages(response) == ["Your cart is empty."]
    assert not CartLine.objects.exists() and reserved(lamp) == 0


def test_an_empty_cart_has_nothing_to_confirm(client):
    assert client.get("/cart/empty/")["Location"] == "/cart/"


def test_cart_lines_show_the_products_picture(client):
    lamp = stocked_product(10, title="Lamp")
    add(client, lamp, 1)
    body = client.get("/cart/").content.decode()
    # The cards' partial: the photo, or the drawn picture.
    assert re.search(rf'<span class="cart-item-image"><img class="product-image[^"]*" src="{reverse("product-image", args=[lamp.pk])}', body)
    assert 'alt="Lamp"' in body


def test_restore_line_brings_a_line_up_to_the_quantity_never_above():
    lamp = stocked_product(10)
    cart = services.get_or_create_cart().pk
    services.add_to_cart(cart, lamp.pk, 1)

    first = services.restore_line(cart, lamp.pk, 3)
    second = services.restore_line(cart, lamp.pk, 3)

    assert (first.added, first.quantity) == (2, 3)
    assert (second.added, second.quantity) == (0, 3)
    assert reserved(lamp) == 3


@pytest.mark.parametrize("quantity", [0, 11, "3", None])
def test_restore_line_refuses_what_no_removal_could_leave(quantity):
    lamp = stocked_product(10)
    cart = services.get_or_create_cart().pk
    with pytest.raises(services.CartError):
        services.restore_line(cart, lamp.pk, quantity)
    assert reserved(lamp) == 0
