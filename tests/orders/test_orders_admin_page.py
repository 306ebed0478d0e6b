"""The admin's order page: the address as an address, the shipment, and one button per move the order allows now."""
import pytest
from django.contrib.auth.models import Permission

from orders.models import Status
from tests.factories import UserFactory, order_with_item
from tests.orders.helpers import page_messages
from tests.site.test_security import inline_code

pytestmark = pytest.mark.django_db


def page(order):
    return f"/admin/orders/order/{order.pk}/change/"


def move(order, name):
    return f"/admin/orders/order/{order.pk}/move/{name}/"


def staff(*codenames):
    user = UserFactory(is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


@pytest.fixture
def clerk_client(client):
    """Staff allowed to change orders: what the list's actions need too."""
    client.force_login(staff("view_order", "change_order"))
    return client


def buttons(response):
    return [entry["label"] for entry in response.context["order_moves"]]


@pytest.mark.parametrize(
    "status, expected",
    [
        (Status.PENDING, ["Cancel & refund"]),
        (Status.PAID, ["Mark packed", "Cancel & refund"]),
        (Status.PACKED, ["Ship", "Cancel & refund"]),
        (Status.SHIPPED, ["Mark delivered"]),
        (Status.DELIVERED, ["Return & refund"]),
        (Status.CANCELLED, []),
        (Status.RETURNED, []),
    ],
)
def test_the_page_offers_exactly_the_moves_the_state_machine_allows(clerk_client, status, expected):
    assert sorted(buttons(clerk_client.get(page(order_with_item(status=status))))) == sorted(expected)


def test_the_page_shows_the_address_the_parcel_and_no_inline_code(clerk_client):
    order = order_with_item(status=Status.PACKED)
    before = clerk_client.get(page(order)).content.decode()
    assert "Analytical Way<br>" in before and "London N1 9GU<br>" in before and '"line1"' not in before
    assert 'name="tracking_number"' in before and "Parcels" not in before  # paid before parcels were recorded
    assert inline_code(before) == []

    clerk_client.post(move(order, "ship"), {"carrier": "UPS", "tracking_number": "1Z999"})

    after = clerk_client.get(page(order)).content.decode()
    assert "Parcels" in after and 'href="https://www.ups.com/track?tracknum=1Z999"' in after
    assert "Mark delivered" in after and "Ship</button>" not in after
    assert buttons(clerk_client.get(page(order))) == []  # the parcel's buttons move it now


def test_each_button_moves_the_order_through_the_service_and_writes_the_timeline(clerk_client):
    order = order_with_item(status=Status.PAID)

    response = clerk_client.post(move(order, "pack"), follow=True)

    order.refresh_from_db()
    assert order.status == Status.PACKED and order.events.get().to_status == Status.PACKED
    assert page_messages(response) == [f"Order {order.number} packed."]
    assert response.redirect_chain[-1][0] == page(order)


def test_ship_needs_the_carrier_and_tracking_number(clerk_client):
    order = order_with_item(status=Status.PACKED)
    response = clerk_client.post(move(order, "ship"), {"carrier": "UPS"}, follow=True)
    order.refresh_from_db()
    assert order.status == Status.PACKED
    assert page_messages(response) == [f"Order {order.number} was not shipped. Tracking number: This field is required."]


def test_a_move_the_order_no_longer_allows_is_refused_with_a_message(clerk_client):
    order = order_with_item(status=Status.SHIPPED)
    response = clerk_client.post(move(order, "cancel"), follow=True)
    order.refresh_from_db()
    assert order.status == Status.SHIPPED
    assert page_messages(response) == [f"Order {order.number} is shipped; it cannot be cancelled now."]


def test_cancel_and_return_call_the_staff_services(clerk_client):
    paid, delivered = order_with_item(status=Status.PAID), order_with_item(status=Status.DELIVERED)
    clerk_client.post(move(paid, "cancel"))
    clerk_client.post(move(delivered, "return_"), {"restockable": "on"})
    paid.refresh_from_db()
    delivered.refresh_from_db()
    assert (paid.status, paid.cancel_reason, delivered.status) == (Status.CANCELLED, "staff", Status.RETURNED)
    assert delivered.events.get().note == "1 unit back, restocked; $0.00 refunded"  # written directly: nothing charged


def test_staff_without_the_change_permission_see_no_buttons_and_cannot_post(client):
    order = order_with_item(status=Status.PAID)
    client.force_login(staff("view_order"))
    response = client.get(page(order))
    assert response.status_code == 200 and buttons(response) == []
    assert "Mark packed" not in response.content.decode()
    assert client.post(move(order, "pack")).status_code == 403
    order.refresh_from_db()
    assert order.status == Status.PAID


def test_shoppers_and_visitors_are_sent_to_the_log_in(client):
    order = order_with_item(status=Status.PAID)
    assert client.post(move(order, "pack"))["Location"].startswith("/admin/login/")
    client.force_login(UserFactory())
    assert client.post(move(order, "pack"))["Location"].startswith("/admin/login/")
    order.refresh_from_db()
    assert order.status == Status.PAID


@pytest.mark.parametrize("url_tail", ["move/pay/", "move/nothing/"])
def test_a_move_staff_cannot_make_is_not_found(clerk_client, url_tail):
    order = order_with_item(status=Status.PENDING)
    assert clerk_client.post(f"/admin/orders/order/{order.pk}/{url_tail}").status_code == 404


@pytest.mark.parametrize("object_id", ["999999", "x", "99999999999999999999999"])
def test_a_missing_order_sends_back_to_the_list(clerk_client, object_id):
    response = clerk_client.post(f"/admin/orders/order/{object_id}/move/pack/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_moves_need_a_post(clerk_client):
    assert clerk_client.get(move(order_with_item(status=Status.PAID), "pack")).status_code == 405
