"""The orders API: own orders only, and the same state machine as the pages."""
import pytest

from orders.models import Status
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db


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
    order = OrderFactory(status=Status.PENDING)
    client.force_login(order.user)

    assert client.post(f"/api/orders/{order.number}/cancel/").json()["status"] == "cancelled"
    refused = client.post(f"/api/orders/{order.number}/cancel/")
    assert refused.status_code == 409 and "can no longer be cancelled" in refused.json()["detail"]


def test_staff_move_orders_and_illegal_moves_are_refused_with_the_reason(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(UserFactory(is_staff=True))

    refused = client.post(f"/api/staff/orders/{order.number}/deliver/")
    assert refused.status_code == 409 and "cannot be delivered" in refused.json()["detail"]
    assert client.post(f"/api/staff/orders/{order.number}/pack/").json()["status"] == "packed"
    assert client.post(f"/api/staff/orders/{order.number}/ship/", {"carrier": ""}).status_code == 400
    shipped = client.post(f"/api/staff/orders/{order.number}/ship/", {"carrier": "UPS", "tracking_number": "1Z9"}).json()
    assert shipped["status"] == "shipped" and "1Z9" in shipped["timeline"][-1]["note"]
    assert client.post(f"/api/staff/orders/{order.number}/teleport/").status_code == 404


def test_shoppers_cannot_use_the_staff_moves(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(order.user)
    assert client.post(f"/api/staff/orders/{order.number}/pack/").status_code == 403
