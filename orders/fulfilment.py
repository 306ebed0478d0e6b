"""The moves of an order after checkout: pack, ship, deliver, cancel, return.

Each move is one transaction that locks the order row, moves the status
(``Order``'s transitions), and writes the order's timeline (``OrderEvent``)
and an ``orders`` event to the outbox; a cancel or a return also refunds
(``orders.charges``) and restocks. The order row is locked before the
inventory rows its restock takes (the lock order is in ``catalog/stock.py``'s
docstring). A cancel asks the gateway (find_charge, refund) under the order
row lock only, before it takes any stock lock.

``move``, ``log_move``, ``lock_order`` and ``cancel`` are also what checkout
pays or cancels with, so every change of status goes through this module.
"""
from django.db import transaction
from django_fsm import TransitionNotAllowed

from amazon_site.events.services import record
from catalog import stock

from . import charges, emails
from .errors import OrderError, OrderErrorCode
from .models import CancelReason, Order, OrderEvent, Status


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
        cancel(order, CancelReason.STAFF, actor=actor)
        return order


def pack(order_id, *, actor) -> Order:
    with transaction.atomic():
        order = lock_order(order_id)
        move(order, "pack", actor=actor)
        return order


def ship(order_id, *, actor, carrier: str, tracking_number: str) -> Order:
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or not tracking_number:
        raise OrderError("Shipping needs a carrier and a tracking number.", OrderErrorCode.SHIPPING_DETAILS_MISSING)
    with transaction.atomic():
        order = lock_order(order_id)
        move(order, "ship", actor=actor, note=f"{carrier}, tracking number {tracking_number}")
        emails.queue(order, "shipped", carrier=carrier, tracking_number=tracking_number)
        return order


def deliver(order_id, *, actor) -> Order:
    with transaction.atomic():
        order = lock_order(order_id)
        move(order, "deliver", actor=actor)
        emails.queue(order, "delivered")
        return order


def return_order(order_id, *, actor, restockable=True) -> Order:
    """A delivered order comes back: refund it, and restock only what can be sold again."""
    with transaction.atomic():
        order = lock_order(order_id)
        move(order, "return_", actor=actor, note="Restocked" if restockable else "Not restockable")
        charges.refund(order)
        if restockable:
            restock(order)
        return order


def lock_order(order_id) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise OrderError("No such order.", OrderErrorCode.NOT_FOUND) from None


def cancel(order, reason, *, actor, note="") -> None:
    """Cancel a locked order: refund what was charged (a lost answer looked up first), then restock."""
    move(order, "cancel", actor=actor, note=note or CancelReason(reason).label, reason=reason)
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


def move(order, transition, *, actor, note="", reason=None) -> None:
    """Make one transition of a locked order, with its timeline row and outbox event."""
    source = order.status
    try:
        getattr(order, transition)()
    except TransitionNotAllowed:
        raise OrderError(
            f"Order {order.number} is {Status(source).label.lower()}; it cannot be {Order.VERBS[transition]} now.",
            OrderErrorCode.INVALID_MOVE,
        ) from None
    if reason:
        order.cancel_reason = reason
    order.save(update_fields=["status", "cancel_reason", "charge_state"])
    log_move(order, source, actor=actor, note=note)


def log_move(order, source, *, actor, note) -> None:
    """The timeline row and the outbox event of one move, in the move's transaction."""
    event = OrderEvent.objects.create(order=order, from_status=source, to_status=order.status, actor=actor, note=note)
    record(
        "orders",
        order.pk,
        {
            "type": f"order.{order.status}",
            "order_id": order.pk,
            "number": order.number,
            "from_status": source,
            "to_status": order.status,
            "total": order.total,
            "note": note,
            "at": event.created_at.isoformat(),
        },
    )
