"""Returns: a shopper asks within ORDER_RETURN_DAYS, staff decide and receive, the gateway refunds the units' share."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.utils import timezone
from rest_framework.test import APIClient

from amazon_site.events.models import OutboxEvent
from cart import services as cart_services
from catalog.models import Inventory
from orders import fulfilment, returns, shipments
from orders.errors import OrderError, OrderErrorCode
from orders.models import Order, Payment, ReturnReason, ReturnStatus, Status
from tests.concurrency import run_concurrently
from tests.factories import InventoryFactory, ProductFactory, UserFactory, WarehouseFactory
from tests.orders.helpers import checkout

pytestmark = pytest.mark.django_db


@pytest.fixture
def delivered(shopper, settings, django_capture_on_commit_callbacks):
    """A delivered order of 2 mugs ($10, from Newark) and a cup ($5, from Seattle): $25 + $4.99 shipping + 10% tax."""
    settings.ORDER_TAX_RATE = Decimal("0.10")
    user, cart_id, address = shopper
    newark, seattle = WarehouseFactory(code="EWR1"), WarehouseFactory(code="SEA3")
    mug, cup = ProductFactory(title="Mug", price=Decimal("10.00")), ProductFactory(title="Cup", price=Decimal("5.00"))
    InventoryFactory(product=mug, warehouse=newark, quantity=5)
    InventoryFactory(product=cup, warehouse=seattle, quantity=5)
    cart_services.add_to_cart(cart_id, mug.pk, 2)
    cart_services.add_to_cart(cart_id, cup.pk, 1)
    order = checkout(user, cart_id, address).order
    staff = UserFactory(is_staff=True)
    fulfilment.pack(order.pk, actor=staff)
    for number, shipment in enumerate(order.shipments.all()):
        shipments.ship(shipment.pk, actor=staff, carrier="UPS", tracking_number=f"1Z{number}")
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.deliver(order.pk, actor=staff)
    order.refresh_from_db()
    assert (order.subtotal, order.shipping, order.tax, order.total) == (
        Decimal("25.00"), Decimal("4.99"), Decimal("3.00"), Decimal("32.99"),
    )
    return order


def items(order):
    return {item.title: item for item in order.items.all()}


def stock(title, code):
    return Inventory.objects.get(product__title=title, warehouse__code=code).quantity


def refunds(order):
    return list(Payment.objects.filter(order=order, kind="refund").values_list("amount", flat=True))


def test_a_partial_return_refunds_its_share_and_restocks_the_warehouse_it_left(
    delivered, django_capture_on_commit_callbacks, mailoutbox
):
    user, staff = delivered.user, UserFactory(is_staff=True)
    mug = items(delivered)["Mug"]
    assert stock("Mug", "EWR1") == 3

    ret = returns.request_return(user=user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED)
    assert ret.status == ReturnStatus.REQUESTED and [(line.warehouse.code, line.quantity) for line in ret.lines.all()] == [
        ("EWR1", 1)
    ]
    mailoutbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        returns.receive(ret.pk, actor=staff, restockable=True)

    ret.refresh_from_db()
    delivered.refresh_from_db()
    # $10 of goods: 40% of the $25 subtotal, so 40% of the shipping ($2.00) and of the tax ($1.20) too.
    assert ret.refund_amount == Decimal("13.20") and refunds(delivered) == [Decimal("13.20")]
    assert stock("Mug", "EWR1") == 4 and stock("Cup", "SEA3") == 4
    assert delivered.status == Status.DELIVERED
    assert [event.heading for event in delivered.events.all()][-2:] == ["Return requested", "Partly returned"]
    assert [message.subject for message in mailoutbox] == [f"We received your return for order {delivered.number}"]
    assert "We refunded $13.20 to your Visa ending in 4242" in mailoutbox[0].body


def test_returning_the_rest_refunds_exactly_what_is_left_and_the_order_is_returned(delivered):
    user, staff = delivered.user, UserFactory(is_staff=True)
    mug, cup = items(delivered)["Mug"], items(delivered)["Cup"]
    first = returns.request_return(user=user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.UNWANTED)
    returns.receive(first.pk, actor=staff, restockable=True)

    rest = returns.request_return(
        user=user, order_id=delivered.pk, quantities={mug.pk: 1, cup.pk: 1}, reason=ReturnReason.UNWANTED
    )
    returns.approve(rest.pk, actor=staff)
    returns.receive(rest.pk, actor=staff, restockable=False)

    delivered.refresh_from_db()
    assert delivered.status == Status.RETURNED
    assert refunds(delivered) == [Decimal("13.20"), Decimal("19.79")] and sum(refunds(delivered)) == delivered.total
    assert stock("Mug", "EWR1") == 4 and stock("Cup", "SEA3") == 4  # the rest could not be sold again
    published = OutboxEvent.objects.filter(topic="orders", key=str(delivered.pk)).values_list("payload__type", flat=True)
    assert list(published)[-5:] == ["return.requested", "return.received", "return.requested", "return.approved", "order.returned"]


@pytest.mark.parametrize(
    "quantities, message",
    [
        (lambda mug, cup: {mug.pk: 3}, "Only 2 of “Mug” can still be returned."),
        (lambda mug, cup: {}, "Choose at least one unit"),
        (lambda mug, cup: {999999: 1}, "not in this order"),
    ],
)
def test_a_return_of_more_than_was_bought_is_refused_and_changes_nothing(delivered, quantities, message):
    mug, cup = items(delivered)["Mug"], items(delivered)["Cup"]
    with pytest.raises(OrderError, match=message) as refused:
        returns.request_return(
            user=delivered.user, order_id=delivered.pk, quantities=quantities(mug, cup), reason=ReturnReason.DAMAGED
        )
    assert refused.value.code == OrderErrorCode.RETURN_NOT_ALLOWED
    assert not delivered.returns.exists()


def test_units_already_asked_back_cannot_be_asked_again_until_refused(delivered):
    user, mug = delivered.user, items(delivered)["Mug"]
    ret = returns.request_return(user=user, order_id=delivered.pk, quantities={mug.pk: 2}, reason=ReturnReason.DAMAGED)
    with pytest.raises(OrderError, match="Only 0 of"):
        returns.request_return(user=user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED)
    with pytest.raises(OrderError, match="why"):
        returns.refuse(ret.pk, actor=UserFactory(is_staff=True), note="  ")
    returns.refuse(ret.pk, actor=UserFactory(is_staff=True), note="Used beyond testing")
    with pytest.raises(OrderError, match="cannot be received now"):
        returns.receive(ret.pk, actor=UserFactory(is_staff=True), restockable=True)
    assert returns.request_return(user=user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED)
    assert refunds(delivered) == []


def test_returns_close_order_return_days_after_delivery(delivered, settings):
    settings.ORDER_RETURN_DAYS = 30
    mug = items(delivered)["Mug"]
    late = timezone.now() + timedelta(days=30, minutes=1)
    with pytest.raises(OrderError, match="closed on"):
        returns.request_return(
            user=delivered.user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED, now=late
        )
    assert returns.request_return(
        user=delivered.user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED,
        now=late - timedelta(minutes=2),
    )


def test_only_delivered_orders_of_ones_own_can_be_returned(shopper, delivered):
    user, cart_id, address = shopper
    product = ProductFactory()
    InventoryFactory(product=product, quantity=3)
    cart_services.add_to_cart(cart_id, product.pk, 1)
    paid = checkout(user, cart_id, address).order
    [item] = paid.items.all()
    with pytest.raises(OrderError, match="only a delivered order"):
        returns.request_return(user=user, order_id=paid.pk, quantities={item.pk: 1}, reason=ReturnReason.DAMAGED)
    with pytest.raises(OrderError, match="No such order"):
        returns.request_return(
            user=UserFactory(), order_id=delivered.pk, quantities={items(delivered)["Mug"].pk: 1}, reason=ReturnReason.DAMAGED
        )


def test_the_shopper_asks_for_a_return_on_the_order_page(client, delivered):
    client.force_login(delivered.user)
    page = client.get(f"/orders/{delivered.number}/")
    mug = items(delivered)["Mug"]
    assert f'name="item_{mug.pk}"' in page.content.decode() and "Request a return" in page.content.decode()

    nothing = client.post(f"/orders/{delivered.number}/return/", {f"item_{mug.pk}": "0", "reason": "damaged"})
    assert nothing.status_code == 400 and "at least one item" in nothing.content.decode()
    too_many = client.post(f"/orders/{delivered.number}/return/", {f"item_{mug.pk}": "7", "reason": "damaged"})
    assert too_many.status_code == 400 and not delivered.returns.exists()

    done = client.post(f"/orders/{delivered.number}/return/", {f"item_{mug.pk}": "1", "reason": "damaged"}, follow=True)
    assert "Your return is requested" in done.content.decode()
    assert delivered.returns.get().lines.get().quantity == 1


def test_the_shopper_asks_through_the_api_and_staff_receive_through_it(delivered):
    mug = items(delivered)["Mug"]
    shopper_api, staff_api = APIClient(), APIClient()
    shopper_api.force_authenticate(delivered.user)
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="change_order"))
    staff_api.force_authenticate(clerk)

    bad = shopper_api.post(f"/api/orders/{delivered.number}/returns/", {"lines": [], "reason": "damaged"}, format="json")
    assert bad.status_code == 400
    made = shopper_api.post(
        f"/api/orders/{delivered.number}/returns/",
        {"lines": [{"item_id": mug.pk, "quantity": 1}], "reason": "damaged", "comment": "Chipped"}, format="json",
    )
    assert made.status_code == 201 and made.json()["status"] == "requested"
    again = shopper_api.post(
        f"/api/orders/{delivered.number}/returns/", {"lines": [{"item_id": mug.pk, "quantity": 2}], "reason": "damaged"},
        format="json",
    )
    assert again.status_code == 409 and again.json()["code"] == "return_not_allowed"

    received = staff_api.post(f"/api/staff/returns/{made.json()['id']}/receive/", {"restockable": True}, format="json")
    assert received.status_code == 200
    assert received.json()["returns"][0]["refund_amount"] == "13.20"
    assert staff_api.post(f"/api/staff/returns/{made.json()['id']}/approve/").status_code == 409


def test_staff_receive_a_return_from_the_order_page(client, delivered):
    mug = items(delivered)["Mug"]
    ret = returns.request_return(user=delivered.user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED)
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(*Permission.objects.filter(codename__in=["view_order", "change_order"]))
    client.force_login(clerk)
    page = client.get(f"/admin/orders/order/{delivered.pk}/change/")
    labels = [move["label"] for entry in page.context["order_returns"] for move in entry["moves"]]
    assert labels == ["Approve", "Refuse", "Received: refund"]

    refused = client.post(f"/admin/orders/order/{delivered.pk}/return/{ret.pk}/refuse/", {"note": ""}, follow=True)
    assert "was not refused" in refused.content.decode()
    client.post(f"/admin/orders/order/{delivered.pk}/return/{ret.pk}/receive/", {"restockable": "on"})
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.RECEIVED and ret.refund_amount == Decimal("13.20")
    assert client.post(f"/admin/orders/order/{delivered.pk}/return/999999/approve/").status_code == 404


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for real concurrency")
def test_two_staff_receiving_one_return_at_once_refund_it_once(delivered):
    mug = items(delivered)["Mug"]
    ret = returns.request_return(user=delivered.user, order_id=delivered.pk, quantities={mug.pk: 2}, reason=ReturnReason.DAMAGED)
    staff = UserFactory(is_staff=True)

    results, errors = run_concurrently(2, lambda i: returns.receive(ret.pk, actor=staff, restockable=True))

    assert len([r for r in results if r]) == 1 and len(errors) == 1 and "cannot be received now" in str(errors[0])
    assert refunds(Order.objects.get(pk=delivered.pk)) == [Decimal("26.39")]  # $20 + 80% of $4.99 and of $3.00
    assert stock("Mug", "EWR1") == 5


def test_staff_who_may_only_view_orders_cannot_move_returns_or_parcels(client, delivered):
    mug = items(delivered)["Mug"]
    ret = returns.request_return(user=delivered.user, order_id=delivered.pk, quantities={mug.pk: 1}, reason=ReturnReason.DAMAGED)
    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(viewer)

    page = client.get(f"/admin/orders/order/{delivered.pk}/change/")
    assert page.status_code == 200 and all(entry["moves"] == [] for entry in page.context["order_returns"])
    assert client.post(f"/admin/orders/order/{delivered.pk}/return/{ret.pk}/receive/", {"restockable": "on"}).status_code == 403
    parcel = delivered.shipments.first()
    assert client.post(f"/admin/orders/order/{delivered.pk}/shipment/{parcel.pk}/deliver/").status_code == 403
    ret.refresh_from_db()
    assert ret.status == ReturnStatus.REQUESTED and refunds(delivered) == []
