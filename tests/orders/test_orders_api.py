"""The orders API: own orders only, and the same state machine as the pages."""
import uuid

import pytest
from django.contrib.auth.models import Permission

from cart import services as cart_services
from catalog.models import Inventory
from orders import checkout, fulfilment
from orders.models import Order, Status
from orders.selectors import checkout_summary
from tests.factories import OrderFactory, UserFactory, order_with_item, stocked_product
from tests.orders.helpers import GOOD

pytestmark = pytest.mark.django_db

ORDER_CLERK_STREET = "5 Private Lane"


def order_clerk(**fields):
    """Staff with the permission the admin's order actions need."""
    user = UserFactory(is_staff=True, **fields)
    user.user_permissions.add(Permission.objects.get(content_type__app_label="orders", codename="change_order"))
    return user


def test_shoppers_list_and_read_only_their_own_orders(client):
    mine, theirs = OrderFactory(), OrderFactory()
    client.force_login(mine.user)

    listed = client.get("/api/orders/").json()
    assert [order["number"] for order in listed["results"]] == [mine.number]
    assert client.get(f"/api/orders/{mine.number}/").json()["total"] == "24.98"
    assert client.get(f"/api/orders/{theirs.number}/").status_code == 404
    assert client.post(f"/api/orders/{theirs.number}/cancel/").status_code == 404


def test_the_api_needs_a_signed_in_shopper(client):
    assert client.get("/api/orders/").status_code == 403


def test_a_shopper_cancels_through_the_api_and_a_second_cancel_is_a_conflict(client):
    order = order_with_item(status=Status.PENDING)
    client.force_login(order.user)

    assert client.post(f"/api/orders/{order.number}/cancel/").json()["status"] == "cancelled"
    refused = client.post(f"/api/orders/{order.number}/cancel/")
    assert refused.status_code == 409 and "can no longer be cancelled" in refused.json()["detail"]
    assert refused.json()["code"] == "invalid_move"


def test_staff_move_orders_and_illegal_moves_are_refused_with_the_reason(client):
    order = order_with_item(status=Status.PAID)
    client.force_login(order_clerk())

    refused = client.post(f"/api/staff/orders/{order.number}/deliver/")
    assert refused.status_code == 409 and "cannot be delivered" in refused.json()["detail"]
    assert refused.json()["code"] == "invalid_move"
    assert client.post(f"/api/staff/orders/{order.number}/pack/").json()["status"] == "packed"
    assert client.post(f"/api/staff/orders/{order.number}/ship/", {"carrier": ""}).status_code == 400
    shipped = client.post(f"/api/staff/orders/{order.number}/ship/", {"carrier": "UPS", "tracking_number": "1Z9"}).json()
    assert shipped["status"] == "shipped" and "1Z9" in shipped["timeline"][-1]["note"]
    assert client.post(f"/api/staff/orders/{order.number}/teleport/").status_code == 404


def test_shoppers_cannot_use_the_staff_moves(client):
    order = order_with_item(status=Status.PAID)
    client.force_login(order.user)
    assert client.post(f"/api/staff/orders/{order.number}/pack/").status_code == 403


# move, the status it starts from, its body, the status it ends in
STAFF_MOVES = [
    ("pack", Status.PAID, {}, Status.PACKED),
    ("ship", Status.PACKED, {"carrier": "UPS", "tracking_number": "1Z9"}, Status.SHIPPED),
    ("deliver", Status.SHIPPED, {}, Status.DELIVERED),
    ("cancel", Status.PAID, {}, Status.CANCELLED),
    ("return", Status.DELIVERED, {}, Status.RETURNED),
]


def checked_out_order(status):
    """A shopper's order paid through checkout (its stock sold, its charge recorded), moved on to ``status``."""
    user = UserFactory()
    cart_id = cart_services.get_or_create_cart(user=user).pk
    product = stocked_product(5)
    cart_services.add_to_cart(cart_id, product.pk, 2)
    address = checkout.save_address(user=user, data={
        "full_name": "A B", "line1": ORDER_CLERK_STREET, "city": "Springfield", "postal_code": "12345", "country": "US", "region": "US-IL"})
    order = checkout.place_order(
        user=user, cart_id=cart_id, address=address, card=GOOD, checkout_key=uuid.uuid4(),
        expected_total=checkout_summary(user=user, cart_id=cart_id).total,
    ).order
    for move, args in (("pack", {}), ("ship", {"carrier": "UPS", "tracking_number": "1"}), ("deliver", {})):
        if Order.objects.get(pk=order.pk).status == status:
            break
        getattr(fulfilment, move)(order.pk, actor=None, **args)
    assert Order.objects.get(pk=order.pk).status == status
    return order, product


def books(order, product):
    """Everything a move may change: the status, the payments, the stock on the shelf."""
    return (
        Order.objects.get(pk=order.pk).status,
        sorted(order.payments.values_list("kind", "outcome", "amount")),
        sum(Inventory.objects.filter(product=product).values_list("quantity", flat=True)),
    )


@pytest.mark.parametrize("move, start, body, _", STAFF_MOVES, ids=[move[0] for move in STAFF_MOVES])
def test_staff_without_the_change_order_permission_cannot_move_orders(client, move, start, body, _):
    order, product = checked_out_order(start)
    before = books(order, product)
    client.force_login(UserFactory(is_staff=True))

    refused = client.post(f"/api/staff/orders/{order.number}/{move}/", body)

    assert refused.status_code == 403
    assert refused.json()["detail"] == "Moving orders needs the orders.change_order permission."
    assert ORDER_CLERK_STREET not in refused.content.decode()
    assert books(order, product) == before


@pytest.mark.parametrize("move, start, body, end", STAFF_MOVES, ids=[move[0] for move in STAFF_MOVES])
def test_staff_with_the_change_order_permission_move_orders(client, move, start, body, end):
    order, product = checked_out_order(start)
    client.force_login(order_clerk())

    moved = client.post(f"/api/staff/orders/{order.number}/{move}/", body)

    assert moved.status_code == 200 and moved.json()["status"] == end
    status, payments, on_shelf = books(order, product)
    assert status == end
    if move in ("cancel", "return"):  # refunded, and the units back on the shelf
        assert [(kind, outcome) for kind, outcome, _ in payments] == [("charge", "succeeded"), ("refund", "succeeded")]
        assert on_shelf == 5
    else:
        assert on_shelf == 3


def test_a_superuser_needs_no_explicit_permission(client):
    order, _ = checked_out_order(Status.PAID)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    assert client.post(f"/api/staff/orders/{order.number}/pack/").json()["status"] == "packed"
