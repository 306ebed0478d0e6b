"""What the checkout tests share: cards, an address, and the steps to the review page.

Three ways in, three shapes: ``GOOD``/``DECLINED``/``BROKE`` are cards for the
services, ``card()`` and ``ADDRESS`` an API checkout body's parts, and
``address_data()``/``pay_data()`` the checkout pages' forms filled in.
"""
import uuid

from django.utils import timezone

from orders import checkout as order_checkout
from orders.payments import Card, TestGateway
from orders.selectors import checkout_summary

GOOD = Card(TestGateway.SUCCEEDS, 12, 2099, "123")
DECLINED = Card(TestGateway.DECLINED, 12, 2099, "123")
BROKE = Card(TestGateway.INSUFFICIENT_FUNDS, 12, 2099, "123")

GOOD_CARD = "4242 4242 4242 4242"
DECLINED_CARD = "4000 0000 0000 0002"

ADDRESS = {
    "full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "", "city": "London",
    "postal_code": "N1 9GU", "country": "GB", "region": "", "phone": "",
}


def checkout(user, cart_id, address, card=GOOD, key=None):
    """Place the cart's order through the service, at the total the shopper was shown."""
    total = checkout_summary(user=user, cart_id=cart_id).total
    return order_checkout.place_order(
        user=user, cart_id=cart_id, address=address, card=card, checkout_key=key or uuid.uuid4(), expected_total=total
    )


def card(number=TestGateway.SUCCEEDS, **changes):
    """An API checkout's card."""
    return {"number": number, "exp_month": 12, "exp_year": timezone.localdate().year + 2, "cvc": "123", **changes}


def page_messages(response):
    return [str(message) for message in response.context["messages"]]


def add(client, product, quantity=1):
    client.post("/cart/add/", {"product": product.pk, "quantity": quantity})


def address_data(**overrides):
    """The checkout page's address form, a new address."""
    return {"form": "new", **ADDRESS, **overrides}


def pay_data(review, card=GOOD_CARD, **overrides):
    """The review page's pay form filled in, with the hidden fields it rendered."""
    initial = review.context["form"].initial
    return {
        "card_number": card, "exp_month": "12", "exp_year": str(timezone.localdate().year + 1), "cvc": "123",
        "checkout_key": str(initial["checkout_key"]), "expected_total": str(initial["expected_total"]), **overrides,
    }


def to_review(client, *products):
    for product in products:
        add(client, product, 2)
    response = client.post("/checkout/", address_data())
    assert response["Location"] == "/checkout/review/"
    return client.get("/checkout/review/")
