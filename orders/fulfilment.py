"""The moves of a whole order after checkout: pay, pack, ship, deliver, cancel.

Each move is one transaction that locks the order row, moves the status
(``Order``'s transitions, through ``orders.timeline``), and writes the
order's timeline (``OrderEvent``) and an ``orders`` event to the outbox.
Packing, shipping and delivering move the order's parcels
(``orders.shipments``), which move the order; a cancel also refunds
(``orders.charges``) and restocks. The order row is locked before the
inventory rows its restock takes (the lock order is in ``catalog/stock.py``'s
docstring). A cancel asks the gateway (find_charge, refund) under the order
row lock only, before it takes any stock lock. Returns are ``orders.returns``.

``pay`` and ``cancel`` are also what checkout pays or cancels with.
"""
from django.db import transaction

from catalog import stock

from . import charges, emails, shipments
from .errors import OrderError, OrderErrorCode
from .models import STAFF_CANCELLABLE_STATUSES, CancelReason, Order
from .timeline import lock_order, move


def cancel_by_customer(*, user, order_id) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, user=user).first()
        if order is None:
            raise OrderError("No such order.", OrderErrorCode.NOT_FOUND)
        if not order.customer_can_cancel():
            raise OrderError(
                f"Order {order.number} is {order.get_status_display().lower()} and can no longer be cancelled.",
                OrderErrorCode.INVALID_MOVE,
            )
        cancel(order, CancelReason.CUSTOMER, actor=user)
        return order


def cancel_by_staff(order_id, *, actor) -> Order:
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status in STAFF_CANCELLABLE_STATUSES and not order.nothing_shipped():
            raise OrderError(
                f"Order {order.number} has a parcel on its way: it cannot be cancelled, only returned once delivered.",
                OrderErrorCode.INVALID_MOVE,
            )
        cancel(order, CancelReason.STAFF, actor=actor)
        return order


def pay(order, *, actor, note) -> None:
    """A locked pending order is paid: it moves on, and its parcels are made (``orders.shipments``)."""
    move(order, "pay", actor=actor, note=note)
    shipments.create_for(order)


def pack(order_id, *, actor) -> Order:
    """Pack every parcel of the order not packed yet."""
    with transaction.atomic():
        order = lock_order(order_id)
        shipments.move_all(order, "pack", actor=actor)
        return order


def ship(order_id, *, actor, carrier: str, tracking_number: str) -> Order:
    """Ship an order of one parcel; one of several parcels is shipped with ``shipments.ship``."""
    with transaction.atomic():
        order = lock_order(order_id)
        shipments.move_all(order, "ship", actor=actor, carrier=carrier, tracking_number=tracking_number)
        return order


def deliver(order_id, *, actor) -> Order:
    """Mark every parcel of the order on its way as delivered."""
    with transaction.atomic():
        order = lock_order(order_id)
        shipments.move_all(order, "deliver", actor=actor)
        return order


def cancel(order, reason, *, actor, note="") -> None:
    """Cancel a locked order: refund what was charged (a lost answer looked up first), then restock."""
    move(order, "cancel", actor=actor, note=note or CancelReason(reason).label, reason=reason)
    shipments.cancel_all(order)
    # A failed payment is told on the checkout page; a mail would only repeat it. Queued
    # before the refund's mail, so the two arrive in the order they happened.
    if reason != CancelReason.PAYMENT_FAILED:
        emails.queue(order, "cancelled")
    charges.find_unrecorded_charge(order)
    charges.refund(order)
    restock(order)


def restock(order) -> None:
    items = [item for item in order.items.all() if item.product_id is not None]
    locked = stock.lock(item.product_id for item in items)
    for item in items:
        allocations = [stock.Allocation(int(warehouse), units) for warehouse, units in sorted(item.allocations.items())]
        stock.restock(locked, item.product_id, [a for a in allocations if (item.product_id, a.warehouse_id) in locked])
