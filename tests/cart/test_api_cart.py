"""The cart API: the visitor's own cart, changed through the reservation services."""
import pytest
from django.test import Client
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from cart.models import Cart
from cart.services import quantity_error
from catalog.models import Inventory
from tests.factories import PASSWORD, UserFactory, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db


def reserved(product):
    return sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True))


def token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def add(client, product, quantity):
    return client.post("/api/cart/lines/", {"product": product.pk, "quantity": quantity}, content_type="application/json")


def test_an_anonymous_visitor_adds_changes_and_removes_through_reservations(client):
    product = stocked_product(5, 5)

    added = add(client, product, 3)
    assert added.status_code == 200
    assert added.json()["change"] == {
        "title": product.title, "requested": 3, "added": 3, "quantity": 3, "limited": False, "short": False,
        "held_cap": False,
    }
    assert reserved(product) == 3
    [line] = client.get("/api/cart/").json()["lines"]
    assert line["product"]["id"] == product.pk and line["quantity"] == 3 and line["reserved"] == 3
    assert line["price"] == "19.99" and line["total"] == "59.97" and line["is_short"] is False

    changed = client.patch(f"/api/cart/lines/{line['id']}/", {"quantity": 1}, content_type="application/json")
    assert changed.status_code == 200 and changed.json()["cart"]["item_count"] == 1
    assert reserved(product) == 1

    assert client.delete(f"/api/cart/lines/{line['id']}/").status_code == 204
    assert reserved(product) == 0
    assert client.get("/api/cart/").json() == {"lines": [], "item_count": 0, "subtotal": "0.00", "checkout_blocked": False}
    assert stock_invariant_violations() == []


def test_short_stock_adds_what_is_left_and_says_so(client):
    product = stocked_product(2)

    change = add(client, product, 5).json()["change"]
    assert change["added"] == 2 and change["quantity"] == 2 and change["short"] is True

    sold_out = add(client, product, 1).json()["change"]
    assert sold_out["added"] == 0 and sold_out["short"] is True
    line_id = client.get("/api/cart/").json()["lines"][0]["id"]
    raised = client.patch(f"/api/cart/lines/{line_id}/", {"quantity": 9}, content_type="application/json").json()
    assert raised["change"]["quantity"] == 2 and raised["change"]["short"] is True
    assert reserved(product) == 2


@pytest.mark.parametrize("quantity", [0, 11, "two", None, True])
def test_a_bad_quantity_is_a_field_error(client, quantity):
    product = stocked_product(5)

    response = add(client, product, quantity)
    assert response.status_code == 400
    assert response.json() == {"detail": quantity_error(), "errors": {"quantity": [quantity_error()]}}
    assert reserved(product) == 0


def test_what_the_cart_refuses_is_a_400_with_the_shoppers_message(client):
    retired = stocked_product(5, is_active=False)

    response = add(client, retired, 1)
    assert response.status_code == 400
    assert response.json() == {"detail": "This product is not available.", "code": "not_available"}


def test_a_line_of_someone_elses_cart_is_a_404_and_stays_as_it_was(client):
    product = stocked_product(10)
    owner = token_client(UserFactory())
    add(owner, product, 2)
    line_id = owner.get("/api/cart/").json()["lines"][0]["id"]

    add(client, product, 1)  # the visitor has a cart of their own
    assert client.patch(f"/api/cart/lines/{line_id}/", {"quantity": 1}, content_type="application/json").status_code == 404
    assert client.delete(f"/api/cart/lines/{line_id}/").json() == {
        "detail": "That item is not in your cart.", "code": "line_not_found",
    }
    assert token_client(UserFactory()).delete(f"/api/cart/lines/{line_id}/").status_code == 404
    assert owner.get("/api/cart/").json()["lines"][0]["quantity"] == 2
    assert reserved(product) == 3


def test_a_token_holder_and_the_same_account_in_a_browser_share_the_accounts_cart(client):
    product = stocked_product(10)
    user = UserFactory()
    add(token_client(user), product, 2)
    assert Cart.objects.get(user=user).lines.get().quantity == 2

    client.login(username=user.username, password=PASSWORD)
    [line] = client.get("/api/cart/").json()["lines"]
    assert line["quantity"] == 2


def test_signing_in_folds_the_visitors_api_cart_into_the_account(client):
    product = stocked_product(10)
    user = UserFactory()
    add(client, product, 2)

    client.login(username=user.username, password=PASSWORD)
    add(client, product, 1)
    assert token_client(user).get("/api/cart/").json()["lines"][0]["quantity"] == 3
    assert reserved(product) == 3


def test_a_visitors_cart_changes_need_the_csrf_token_as_the_pages_do():
    product = stocked_product(10)
    browser = Client(enforce_csrf_checks=True)

    refused = add(browser, product, 1)
    assert refused.status_code == 403 and refused.json()["detail"].startswith("CSRF Failed")
    assert reserved(product) == 0
    browser.get(product.get_absolute_url())  # a page with a form sets the CSRF cookie
    token = browser.cookies["csrftoken"].value
    accepted = browser.post(
        "/api/cart/lines/",
        {"product": product.pk, "quantity": 1},
        content_type="application/json",
        headers={"X-CSRFToken": token},
    )
    assert accepted.status_code == 200 and reserved(product) == 1


def test_a_token_names_the_accounts_cart_whatever_cart_the_session_holds(client):
    product = stocked_product(10)
    add(client, product, 1)  # the browser's session now holds a visitor's cart
    user = UserFactory()
    token = Token.objects.create(user=user).key

    response = client.post(
        "/api/cart/lines/",
        {"product": product.pk, "quantity": 2},
        content_type="application/json",
        headers={"Authorization": f"Token {token}"},
    )

    assert response.status_code == 200 and response.json()["cart"]["item_count"] == 2
    assert Cart.objects.get(user=user).lines.get().quantity == 2
    assert client.get("/api/cart/", headers={"Authorization": f"Token {token}"}).json()["item_count"] == 2
    assert client.get("/api/cart/").json()["item_count"] == 1  # the session still names the visitor's cart
