"""Checkout and the order state machine, through orders.checkout and orders.fulfilment."""
import uuid
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext

from amazon_site.events.models import OutboxEvent
from cart import services as cart_services
from cart.models import CartLine, Reservation
from catalog import stock
from catalog.models import Inventory
from orders import checkout as order_checkout
from orders import fulfilment, returns
from orders.errors import CheckoutError, CheckoutErrorCode, OrderError, OrderErrorCode
from orders.models import Address, CancelReason, Order, OrderEvent, Payment, Status
from orders.cards import luhn_valid
from orders.selectors import checkout_summary
from tests.factories import (
    OrderFactory, OrderItemFactory, UserFactory, WarehouseFactory, stock_invariant_violations, stocked_product,
)
from tests.orders.helpers import BROKE, DECLINED, GOOD, checkout

pytestmark = pytest.mark.django_db

def stock_of(product):
    rows = Inventory.objects.filter(product=product)
    return sum(row.quantity for row in rows), sum(row.reserved for row in rows)


def test_checkout_sells_the_reservation_charges_once_and_empties_the_cart(shopper, django_capture_on_commit_callbacks):
    user, cart_id, address = shopper
    product = stocked_product(3, 4, price=Decimal("12.50"))
    cart_services.add_to_cart(cart_id, product.pk, 5)

    with django_capture_on_commit_callbacks(execute=True):
        result = checkout(user, cart_id, address)

    order = result.order
    assert result.declined_message is None
    assert order.status == Status.PAID
    assert (order.subtotal, order.shipping, order.total) == (Decimal("62.50"), Decimal("0.00"), Decimal("62.50"))
    [item] = order.items.all()
    assert (item.quantity, item.unit_price, item.line_total) == (5, Decimal("12.50"), Decimal("62.50"))
    assert sum(item.allocations.values()) == 5
    assert stock_of(product) == (2, 0)
    assert not CartLine.objects.filter(cart_id=cart_id).exists() and not Reservation.objects.exists()
    [charge] = Payment.objects.filter(order=order)
    assert (charge.kind, charge.outcome, charge.amount, charge.card_last4) == ("charge", "succeeded", Decimal("62.50"), "4242")
    assert [event.to_status for event in order.events.all()] == ["pending", "paid"]
    assert [m.subject for m in mail.outbox] == [f"Your order {order.number} is confirmed"]
    assert stock_invariant_violations() == []


def test_small_orders_pay_for_shipping(shopper):
    user, cart_id, address = shopper
    product = stocked_product(5, price=Decimal("10.00"))
    cart_services.add_to_cart(cart_id, product.pk, 1)
    order = checkout(user, cart_id, address).order
    assert (order.shipping, order.total) == (Decimal("4.99"), Decimal("14.99"))


def test_the_price_comes_from_the_catalog_and_a_change_needs_confirming(shopper):
    user, cart_id, address = shopper
    product = stocked_product(5, price=Decimal("40.00"))
    cart_services.add_to_cart(cart_id, product.pk, 1)
    reviewed = checkout_summary(user=user, cart_id=cart_id).total
    product.price = Decimal("45.00")
    product.save()

    summary = checkout_summary(user=user, cart_id=cart_id)
    assert summary.price_changed and summary.lines[0].price_when_added == Decimal("40.00")
    with pytest.raises(CheckoutError, match="Prices changed") as refused:
        order_checkout.place_order(
            user=user, cart_id=cart_id, address=address, card=GOOD, checkout_key=uuid.uuid4(), expected_total=reviewed
        )
    assert refused.value.code == CheckoutErrorCode.PRICE_CHANGED
    assert not Order.objects.exists()
    assert CartLine.objects.filter(cart_id=cart_id).get().quantity == 1 and stock_of(product) == (5, 1)

    assert checkout(user, cart_id, address).order.total == Decimal("45.00")


@pytest.mark.parametrize("card, message", [(DECLINED, "declined"), (BROKE, "insufficient funds")])
def test_a_declined_card_cancels_the_order_and_puts_the_items_back_in_the_cart(shopper, card, message):
    user, cart_id, address = shopper
    product = stocked_product(3, price=Decimal("20.00"))
    cart_services.add_to_cart(cart_id, product.pk, 2)

    key = uuid.uuid4()
    result = checkout(user, cart_id, address, card=card, key=key)

    assert message in result.declined_message
    # The same form sent again (the back button) finds the declined order, not a new charge.
    assert checkout(user, cart_id, address, card=GOOD, key=key).declined_message == result.declined_message
    assert Order.objects.count() == 1
    order = Order.objects.get()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, CancelReason.PAYMENT_FAILED)
    assert not Payment.objects.filter(outcome="succeeded").exists()
    assert CartLine.objects.get(cart_id=cart_id).quantity == 2
    assert stock_of(product) == (3, 2)  # restocked, then reserved again for the cart
    assert stock_invariant_violations() == []


@pytest.mark.parametrize("refill", [False, True], ids=["cart-now-empty", "cart-refilled"])
def test_submitting_the_same_checkout_twice_places_one_order_and_charges_once(shopper, refill):
    """The one test of the double submit; the page's and the API's tests check only that their key gets here."""
    user, cart_id, address = shopper
    product = stocked_product(5)
    cart_services.add_to_cart(cart_id, product.pk, 1)
    key = uuid.uuid4()

    first = checkout(user, cart_id, address, key=key)
    if refill:  # the shopper added something again before the second click
        cart_services.add_to_cart(cart_id, product.pk, 1)
    second = checkout(user, cart_id, address, key=key)

    assert first.order.pk == second.order.pk
    assert Order.objects.count() == 1 and Payment.objects.count() == 1
    assert stock_of(product) == (4, int(refill))
    assert CartLine.objects.filter(cart_id=cart_id).count() == int(refill)  # the refill is not sold


def test_a_checkout_key_is_its_shoppers_only(shopper):
    user, cart_id, address = shopper
    cart_services.add_to_cart(cart_id, stocked_product(5).pk, 1)
    key = uuid.uuid4()
    checkout(user, cart_id, address, key=key)
    other = UserFactory()

    with pytest.raises(CheckoutError, match="not yours") as refused:
        checkout(other, cart_services.get_or_create_cart(user=other).pk, address, key=key)
    assert refused.value.code == CheckoutErrorCode.NOT_YOURS


def test_a_lapsed_line_that_cannot_be_filled_blocks_the_order_and_keeps_the_cart(shopper, settings):
    user, cart_id, address = shopper
    product = stocked_product(1)
    cart_services.add_to_cart(cart_id, product.pk, 1)
    # The reservation lapses and someone else takes the last unit.
    Reservation.objects.update(reserved_until="2000-01-01T00:00:00Z")
    other = cart_services.get_or_create_cart()
    assert cart_services.add_to_cart(other.pk, product.pk, 1).added == 1

    with pytest.raises(CheckoutError) as refused:
        checkout(user, cart_id, address)

    assert refused.value.lines == [product.title] and refused.value.code == CheckoutErrorCode.OUT_OF_STOCK
    assert not Order.objects.exists()
    assert CartLine.objects.filter(cart_id=cart_id).exists()
    assert stock_invariant_violations() == []


def test_an_empty_cart_cannot_be_checked_out(shopper):
    user, cart_id, address = shopper
    with pytest.raises(CheckoutError, match="empty") as refused:
        checkout(user, cart_id, address)
    assert refused.value.code == CheckoutErrorCode.CART_EMPTY


def test_cancelling_a_paid_order_refunds_it_and_restocks(shopper):
    user, cart_id, address = shopper
    product = stocked_product(2, 2)
    cart_services.add_to_cart(cart_id, product.pk, 3)
    order = checkout(user, cart_id, address).order
    assert stock_of(product) == (1, 0)

    fulfilment.cancel_by_customer(user=user, order_id=order.pk)

    order.refresh_from_db()
    assert (order.status, order.cancel_reason) == (Status.CANCELLED, CancelReason.CUSTOMER)
    refund = Payment.objects.get(order=order, kind="refund")
    assert (refund.outcome, refund.amount) == ("succeeded", order.total)
    assert stock_of(product) == (4, 0)
    with pytest.raises(OrderError, match="no longer be cancelled") as refused:
        fulfilment.cancel_by_customer(user=user, order_id=order.pk)
    assert refused.value.code == OrderErrorCode.INVALID_MOVE
    assert Payment.objects.filter(order=order, kind="refund").count() == 1


def test_staff_move_an_order_to_the_door_and_every_step_is_on_the_timeline(shopper, django_capture_on_commit_callbacks):
    user, cart_id, address = shopper
    staff = UserFactory(is_staff=True)
    cart_services.add_to_cart(cart_id, stocked_product(5).pk, 1)
    order = checkout(user, cart_id, address).order

    fulfilment.pack(order.pk, actor=staff)
    with django_capture_on_commit_callbacks(execute=True):
        fulfilment.ship(order.pk, actor=staff, carrier="UPS", tracking_number="1Z999")
    fulfilment.deliver(order.pk, actor=staff)

    events = list(OrderEvent.objects.filter(order=order))
    assert [(e.from_status, e.to_status) for e in events] == [
        ("", "pending"), ("pending", "paid"), ("paid", "packed"), ("packed", "shipped"), ("shipped", "delivered"),
    ]
    assert "1Z999" in events[3].note and events[3].actor == staff
    assert mail.outbox[-1].subject == f"Your order {order.number} has shipped"
    published = list(OutboxEvent.objects.filter(topic="orders", key=str(order.pk)).values_list("payload__type", flat=True))
    assert published == ["order.pending", "order.paid", "order.packed", "order.shipped", "order.delivered"]


def test_the_status_cannot_be_set_directly(shopper):
    order = Order(status=Status.PAID)
    with pytest.raises(AttributeError):
        order.status = Status.DELIVERED


def test_a_return_refunds_and_restocks_only_restockable_items(shopper):
    user, cart_id, address = shopper
    staff = UserFactory(is_staff=True)
    product = stocked_product(5)
    cart_services.add_to_cart(cart_id, product.pk, 2)
    order = checkout(user, cart_id, address).order
    for move in ("pack", "deliver"):
        if move == "deliver":
            fulfilment.ship(order.pk, actor=staff, carrier="DHL", tracking_number="9")
        getattr(fulfilment, move)(order.pk, actor=staff)

    returns.return_everything(order.pk, actor=staff, restockable=False)

    order.refresh_from_db()
    assert order.status == Status.RETURNED
    assert Payment.objects.get(order=order, kind="refund").amount == order.total
    assert stock_of(product) == (3, 0)


def test_stock_changes_are_events_in_the_same_transaction(shopper):
    user, cart_id, address = shopper
    product = stocked_product(5)
    cart_services.add_to_cart(cart_id, product.pk, 2)
    checkout(user, cart_id, address)
    row = Inventory.objects.get(product=product)
    stock.set_quantity(row.pk, 10)
    stock.add_row(product.pk, WarehouseFactory().pk, 4)
    cancelled = Order.objects.get()
    fulfilment.cancel_by_staff(cancelled.pk, actor=UserFactory(is_staff=True))

    events = OutboxEvent.objects.filter(topic="inventory", key=str(product.pk)).order_by("id")
    assert [event.payload["type"] for event in events] == [
        "stock.reserved", "stock.sold", "stock.adjusted", "stock.adjusted", "stock.restocked",
    ]
    assert events[1].payload["warehouses"] == [{"warehouse_id": row.warehouse_id, "quantity": 2}]


def test_card_numbers_are_checked_with_luhn():
    assert luhn_valid("4242424242424242") and luhn_valid("4000000000000002")
    assert not luhn_valid("4242424242424241") and not luhn_valid("1234") and not luhn_valid("4242x24242424242")


def test_addresses_are_validated(shopper):
    user, _, _ = shopper
    with pytest.raises(ValidationError, match="postal code|country"):
        order_checkout.save_address(
            user=user, data={"full_name": "A", "line1": "x", "city": "y", "postal_code": "!!", "country": "usa"}
        )
    assert Address.objects.filter(user=user).count() == 1


@pytest.mark.django_db(transaction=True)
def test_the_sale_commits_durably_even_though_cart_changes_do_not(shopper):
    """Cart transactions skip the WAL flush; checkout's sale, made through the cart, must not."""
    user, cart_id, address = shopper
    with CaptureQueriesContext(connection) as adding:
        cart_services.add_to_cart(cart_id, stocked_product(5).pk, 1)
    with CaptureQueriesContext(connection) as checking_out:
        checkout(user, cart_id, address)

    if connection.vendor == "postgresql":
        assert any("synchronous_commit" in query["sql"] for query in adding.captured_queries)
    assert not any("synchronous_commit" in query["sql"] for query in checking_out.captured_queries)


ALLOWED = {
    "pending": {"cancel_by_staff"},
    "paid": {"pack", "cancel_by_staff"},
    "packed": {"ship", "cancel_by_staff"},
    "shipped": {"deliver"},
    "delivered": {"return_everything"},
    "cancelled": set(),
    "returned": set(),
}
MOVES = {
    "pack": {},
    "ship": {"carrier": "UPS", "tracking_number": "1Z"},
    "deliver": {},
    "cancel_by_staff": {},
    "return_everything": {"restockable": True},
}
SERVICES = {"return_everything": returns}


def order_in(status):
    """An order of one item, written directly in ``status`` (before parcels were recorded)."""
    order = OrderFactory(status=status)
    OrderItemFactory(order=order)
    return order


@pytest.mark.parametrize(
    "status, move", [(status, move) for status, allowed in ALLOWED.items() for move in MOVES if move not in allowed]
)
def test_every_move_the_state_machine_does_not_allow_is_refused(status, move):
    order = order_in(status)

    with pytest.raises(OrderError, match="cannot be") as refused:
        getattr(SERVICES.get(move, fulfilment), move)(order.pk, actor=UserFactory(is_staff=True), **MOVES[move])
    assert refused.value.code == OrderErrorCode.INVALID_MOVE

    order.refresh_from_db()
    assert order.status == status and not order.events.exists()


@pytest.mark.parametrize("status, move", [(status, move) for status, allowed in ALLOWED.items() for move in allowed])
def test_every_move_the_state_machine_allows_is_made(status, move):
    order = order_in(status)
    getattr(SERVICES.get(move, fulfilment), move)(order.pk, actor=UserFactory(is_staff=True), **MOVES[move])
    order.refresh_from_db()
    assert order.status != status and order.events.get().from_status == status
