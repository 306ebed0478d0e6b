"""Parcels: one per warehouse the order's units came from, each shipped on its own; the order follows them."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone
from rest_framework.test import APIClient

from amazon_site.events.models import OutboxEvent
from cart import services as cart_services
from orders import fulfilment, shipments
from orders.errors import OrderError, OrderErrorCode
from orders.models import Order, ShipmentStatus, Status
from tests.factories import InventoryFactory, ProductFactory, UserFactory, WarehouseFactory
from tests.orders.helpers import checkout, pay_data, to_review

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_warehouses():
    """A kettle held in Newark only, a lamp in Seattle only, and a pan in both (one unit in each)."""
    newark, seattle = WarehouseFactory(code="EWR1", name="Newark, NJ"), WarehouseFactory(code="SEA3", name="Seattle, WA")
    kettle, lamp, pan = (ProductFactory(title=title, price=Decimal(price)) for title, price in
                         (("Kettle", "20.00"), ("Lamp", "30.00"), ("Pan", "15.00")))
    InventoryFactory(product=kettle, warehouse=newark, quantity=5)
    InventoryFactory(product=lamp, warehouse=seattle, quantity=5)
    InventoryFactory(product=pan, warehouse=newark, quantity=1)
    InventoryFactory(product=pan, warehouse=seattle, quantity=1)
    return newark, seattle, kettle, lamp, pan


def place(shopper, *lines):
    user, cart_id, address = shopper
    for product, units in lines:
        cart_services.add_to_cart(cart_id, product.pk, units)
    return checkout(user, cart_id, address).order


def parcel_contents(order):
    return {
        shipment.warehouse.code: sorted((line.item.title, line.quantity) for line in shipment.lines.all())
        for shipment in order.shipments.all()
    }


def test_a_paid_order_gets_one_parcel_per_warehouse_holding_its_units(shopper, two_warehouses):
    _, _, kettle, lamp, pan = two_warehouses
    order = place(shopper, (kettle, 1), (lamp, 1), (pan, 2))

    assert order.status == Status.PAID
    contents = parcel_contents(order)
    # The pan's two units came from both warehouses: one travels in each parcel.
    assert contents == {"EWR1": [("Kettle", 1), ("Pan", 1)], "SEA3": [("Lamp", 1), ("Pan", 1)]}
    assert all(shipment.status == ShipmentStatus.PENDING for shipment in order.shipments.all())


def test_the_order_follows_its_parcels_and_the_timeline_says_partly_shipped(
    shopper, two_warehouses, django_capture_on_commit_callbacks, mailoutbox
):
    _, _, kettle, lamp, _ = two_warehouses
    order = place(shopper, (kettle, 1), (lamp, 1))
    staff = UserFactory(is_staff=True)
    first, second = order.shipments.all()
    mailoutbox.clear()

    shipments.pack(first.pk, actor=staff)
    assert Order.objects.get(pk=order.pk).status == Status.PAID
    shipments.pack(second.pk, actor=staff)
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    with django_capture_on_commit_callbacks(execute=True):
        shipments.ship(first.pk, actor=staff, carrier="UPS", tracking_number="1ZFIRST")
    assert Order.objects.get(pk=order.pk).status == Status.PACKED
    with django_capture_on_commit_callbacks(execute=True):
        shipments.ship(second.pk, actor=staff, carrier="FedEx", tracking_number="FX2")
        shipments.deliver(first.pk, actor=staff)
    assert Order.objects.get(pk=order.pk).status == Status.SHIPPED
    with django_capture_on_commit_callbacks(execute=True):
        shipments.deliver(second.pk, actor=staff)

    order.refresh_from_db()
    assert order.status == Status.DELIVERED
    steps = [(event.heading, event.note) for event in order.events.all()][2:]
    assert steps == [
        ("Partly packed", "Parcel 1 of 2, from Newark, NJ"),
        ("Packed", "Parcel 2 of 2, from Seattle, WA"),
        ("Partly shipped", "Parcel 1 of 2, from Newark, NJ: UPS, tracking number 1ZFIRST"),
        ("Shipped", "Parcel 2 of 2, from Seattle, WA: FedEx, tracking number FX2"),
        ("Partly delivered", "Parcel 1 of 2, from Newark, NJ"),
        ("Delivered", "Parcel 2 of 2, from Seattle, WA"),
    ]
    types = list(OutboxEvent.objects.filter(topic="orders", key=str(order.pk)).values_list("payload__type", flat=True))
    assert types[2:] == [
        "shipment.packed", "order.packed", "shipment.shipped", "order.shipped", "shipment.delivered", "order.delivered",
    ]
    # A mail per parcel shipped, with its own tracking link; one when the last parcel arrived.
    subjects = [message.subject for message in mailoutbox]
    assert subjects == [f"Your order {order.number} has shipped"] * 2 + [f"Your order {order.number} was delivered"]
    assert "https://www.ups.com/track?tracknum=1ZFIRST" in mailoutbox[0].body and "Kettle" in mailoutbox[0].body
    assert "Lamp" not in mailoutbox[0].body.split("Order " + order.number)[0]
    assert "https://www.fedex.com/fedextrack/?trknbr=FX2" in mailoutbox[1].body


def test_an_order_of_several_parcels_is_shipped_parcel_by_parcel(shopper, two_warehouses):
    _, _, kettle, lamp, _ = two_warehouses
    order = place(shopper, (kettle, 1), (lamp, 1))
    staff = UserFactory(is_staff=True)
    fulfilment.pack(order.pk, actor=staff)  # packing the whole order packs both parcels

    with pytest.raises(OrderError) as refused:
        fulfilment.ship(order.pk, actor=staff, carrier="UPS", tracking_number="1Z")
    assert refused.value.code == OrderErrorCode.SEVERAL_PARCELS
    assert {shipment.status for shipment in order.shipments.all()} == {ShipmentStatus.PACKED}
    with pytest.raises(OrderError, match="carrier and a tracking number"):
        shipments.ship(order.shipments.first().pk, actor=staff, carrier="UPS", tracking_number=" ")
    with pytest.raises(OrderError, match="cannot be delivered now"):
        shipments.deliver(order.shipments.first().pk, actor=staff)
    assert Order.objects.get(pk=order.pk).status == Status.PACKED


def test_nobody_cancels_an_order_with_a_parcel_on_its_way(shopper, two_warehouses):
    _, _, kettle, lamp, _ = two_warehouses
    user = shopper[0]
    order = place(shopper, (kettle, 1), (lamp, 1))
    staff = UserFactory(is_staff=True)
    first = order.shipments.first()

    shipments.pack(first.pk, actor=staff)
    with pytest.raises(OrderError, match="can no longer be cancelled"):
        fulfilment.cancel_by_customer(user=user, order_id=order.pk)  # a parcel is packed
    shipments.ship(first.pk, actor=staff, carrier="UPS", tracking_number="1Z")
    with pytest.raises(OrderError, match="parcel on its way"):
        fulfilment.cancel_by_staff(order.pk, actor=staff)
    assert Order.objects.get(pk=order.pk).status == Status.PAID  # the other parcel is still being prepared


def test_a_cancel_cancels_the_parcels_not_sent(shopper, two_warehouses):
    _, _, kettle, lamp, _ = two_warehouses
    order = place(shopper, (kettle, 1), (lamp, 1))
    shipments.pack(order.shipments.first().pk, actor=UserFactory(is_staff=True))
    fulfilment.cancel_by_staff(order.pk, actor=UserFactory(is_staff=True))
    assert {shipment.status for shipment in order.shipments.all()} == {ShipmentStatus.CANCELLED}


def test_each_parcel_has_an_estimated_delivery_from_the_transit_table(shopper, two_warehouses, settings):
    settings.SHIPPING_HANDLING_DAYS = 1
    settings.SHIPPING_TRANSIT_DAYS = {"EWR1": {"US": 2, "*": 6}, "*": {"*": 9}}
    _, _, kettle, lamp, _ = two_warehouses
    order = place(shopper, (kettle, 1), (lamp, 1))
    today = timezone.now().date()

    estimates = {shipment.warehouse.code: shipment.estimated_delivery for shipment in order.shipments.all()}
    assert estimates == {"EWR1": today + timedelta(days=3), "SEA3": today + timedelta(days=10)}
    newark = order.shipments.get(warehouse__code="EWR1")
    staff = UserFactory(is_staff=True)
    shipments.pack(newark.pk, actor=staff)
    shipments.ship(newark.pk, actor=staff, carrier="UPS", tracking_number="1Z")
    newark.refresh_from_db()
    assert newark.estimated_delivery == today + timedelta(days=2)  # counted again from the day it left


def test_checkout_review_shows_the_arrival_before_payment(client, two_warehouses, settings):
    settings.SHIPPING_TRANSIT_DAYS = {"*": {"GB": 4}}
    settings.SHIPPING_HANDLING_DAYS = 1
    _, _, kettle, lamp, _ = two_warehouses
    client.force_login(UserFactory())
    review = to_review(client, kettle, lamp)
    arrives = timezone.now().date() + timedelta(days=5)
    assert review.context["arrivals"] == [arrives, arrives]  # a parcel from each warehouse
    assert f"Arrives in 2 parcels, by {arrives:%A, %B} {arrives.day}." in review.content.decode()


def test_the_order_page_shows_each_parcel_with_its_tracking_link(client, two_warehouses):
    _, _, kettle, lamp, _ = two_warehouses
    user = UserFactory()
    client.force_login(user)
    review = to_review(client, kettle, lamp)
    client.post("/checkout/review/", pay_data(review))
    order = user.orders.get()
    staff = UserFactory(is_staff=True)
    fulfilment.pack(order.pk, actor=staff)
    first = order.shipments.first()
    shipments.ship(first.pk, actor=staff, carrier="DHL", tracking_number="JD 01")

    page = client.get(f"/orders/{order.number}/").content.decode()
    assert "Parcel 1 of 2" in page and "Parcel 2 of 2" in page
    assert 'href="https://www.dhl.com/global-en/home/tracking/tracking-express.html?tracking-id=JD%2001"' in page
    assert "Partly shipped" in page


def test_staff_move_parcels_through_the_api(two_warehouses, shopper):
    _, _, kettle, lamp, _ = two_warehouses
    order = place(shopper, (kettle, 1), (lamp, 1))
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_order"))
    api = APIClient()
    api.force_authenticate(clerk)
    first, second = order.shipments.all()

    assert api.post(f"/api/staff/shipments/{first.pk}/pack/").json()["status"] == "paid"
    refused = api.post(f"/api/staff/shipments/{first.pk}/deliver/")
    assert refused.status_code == 409 and refused.json()["code"] == "invalid_move"
    assert api.post(f"/api/staff/shipments/{first.pk}/ship/", {"carrier": "UPS"}, format="json").status_code == 400
    body = api.post(f"/api/staff/shipments/{first.pk}/ship/", {"carrier": "UPS", "tracking_number": "1Z"}, format="json").json()
    parcel = next(entry for entry in body["shipments"] if entry["id"] == first.pk)
    assert parcel["status"] == "shipped" and parcel["tracking_url"] == "https://www.ups.com/track?tracknum=1Z"
    assert api.post("/api/staff/shipments/999999/pack/").status_code == 404
    assert Order.objects.get(pk=order.pk).shipments.get(pk=second.pk).status == ShipmentStatus.PENDING


def test_an_order_paid_before_parcels_gets_its_parcel_at_its_first_move(shopper):
    product = ProductFactory()
    InventoryFactory(product=product, quantity=3)
    add_order = place(shopper, (product, 1))
    add_order.shipments.all().delete()  # as an order paid before this release

    fulfilment.pack(add_order.pk, actor=UserFactory(is_staff=True))

    [parcel] = add_order.shipments.all()
    assert parcel.status == ShipmentStatus.PACKED and parcel.lines.get().quantity == 1
    assert Order.objects.get(pk=add_order.pk).status == Status.PACKED
