"""Returns: a shopper sends back some or all units of a delivered order, and gets their share refunded.

Within ``ORDER_RETURN_DAYS`` of delivery a shopper asks (``request_return``);
staff approve or refuse, then receive the parcel (``receive``), restockable
or not. Receiving refunds through the gateway, puts restockable units back in
the warehouse they left, and moves the order to ``returned`` once every unit
is back. Each step is one transaction under the order row lock, then the
inventory rows (the lock order of ``catalog/stock.py``), with its timeline
row and outbox event (``orders.timeline``).

The refund policy (the README states it): the returned units' price, plus
their share of the order's shipping and tax in proportion to their price,
rounded to the cent; the return that brings the last unit back refunds all
that is left of the charge, so a fully returned order is refunded its total
exactly, never more.
"""
from collections import Counter
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import stock

from . import charges, emails, selectors, shipments
from .errors import OrderError, OrderErrorCode
from .models import (
    LIVE_RETURN_STATUSES,
    Order,
    Return,
    ReturnLine,
    ReturnReason,
    ReturnStatus,
    ShipmentLine,
    ShipmentStatus,
    Status,
)
from .pricing import CENTS
from .timeline import lock_order, log_move, make_transition, move

def request_return(*, user, order_id, quantities: dict[int, int], reason: str, comment: str = "", now=None) -> Return:
    """The shopper asks to send back ``quantities`` (units by item id) of their delivered order."""
    if reason not in ReturnReason.values:
        raise OrderError("Choose a reason for the return.", OrderErrorCode.RETURN_NOT_ALLOWED)
    quantities = {int(item): int(units) for item, units in quantities.items() if int(units) > 0}
    if not quantities:
        raise OrderError("Choose at least one unit to return.", OrderErrorCode.RETURN_NOT_ALLOWED)
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, user=user).first()
        if order is None:
            raise OrderError("No such order.", OrderErrorCode.NOT_FOUND)
        ends = selectors.return_window_ends(order)
        if ends is None:
            raise OrderError(
                f"Order {order.number} is {Status(order.status).label.lower()}: only a delivered order can be returned.",
                OrderErrorCode.RETURN_NOT_ALLOWED,
            )
        if (now or timezone.now()) > ends:
            raise OrderError(
                f"Returns of order {order.number} closed on {ends:%B %-d, %Y}, {settings.ORDER_RETURN_DAYS} days after delivery.",
                OrderErrorCode.RETURN_NOT_ALLOWED,
            )
        ret = _open(order, quantities, reason=reason, comment=comment)
        units = sum(quantities.values())
        log_move(
            order, order.status, actor=user, title="Return requested",
            note=f"{units} unit{'s' if units != 1 else ''}: {ReturnReason(reason).label}",
            type="return.requested", return_id=ret.pk,
        )
        return ret


def _open(order, quantities, *, reason, comment) -> Return:
    """A new return of a locked order, its lines split over the warehouses the units left from."""
    left = selectors.returnable_units(order)
    titles = {item.pk: item.title for item in order.items.all()}
    for item_id, units in quantities.items():
        if item_id not in titles:
            raise OrderError("That item is not in this order.", OrderErrorCode.RETURN_NOT_ALLOWED)
        if units > left.get(item_id, 0):
            raise OrderError(
                f"Only {left.get(item_id, 0)} of “{titles[item_id]}” can still be returned.", OrderErrorCode.RETURN_NOT_ALLOWED
            )
    shipments.ensure(order)  # the parcels say which warehouse each unit left from
    ret = Return.objects.create(order=order, reason=reason, comment=comment.strip()[:500])
    ReturnLine.objects.bulk_create(
        ReturnLine(ret=ret, item_id=item_id, warehouse_id=warehouse_id, quantity=units)
        for item_id, units in sorted(quantities.items())
        for warehouse_id, units in _from_warehouses(item_id, units)
    )
    return ret


def _from_warehouses(item_id, units) -> list[tuple]:
    """Where ``units`` of an item came from: the parcels that brought them, less what went back to each already."""
    sent = Counter()
    lines = ShipmentLine.objects.filter(item_id=item_id).exclude(shipment__status=ShipmentStatus.CANCELLED)
    for warehouse_id, count in lines.values_list("shipment__warehouse_id", "quantity"):
        sent[warehouse_id] += count
    returned = ReturnLine.objects.filter(item_id=item_id, ret__status__in=LIVE_RETURN_STATUSES)
    for warehouse_id, count in returned.values_list("warehouse_id", "quantity"):
        sent[warehouse_id] -= count
    taken = []
    for warehouse_id in sorted(sent, key=lambda pk: (pk is None, pk or 0)):
        count = min(units, sent[warehouse_id])
        if count > 0:
            taken.append((warehouse_id, count))
            units -= count
    return taken + ([(None, units)] if units > 0 else [])


def approve(return_id, *, actor) -> Return:
    with transaction.atomic():
        order, ret = _lock(return_id)
        make_transition(ret, "approve", f"Return {ret.pk}")
        ret.save(update_fields=["status"])
        log_move(order, order.status, actor=actor, title="Return approved", note=f"Return {ret.pk}", type="return.approved", return_id=ret.pk)
        emails.queue(order, "return_approved", return_id=ret.pk)
        return ret


def refuse(return_id, *, actor, note: str) -> Return:
    note = note.strip()
    if not note:
        raise OrderError("Tell the shopper why the return is refused.", OrderErrorCode.RETURN_NOT_ALLOWED)
    with transaction.atomic():
        order, ret = _lock(return_id)
        make_transition(ret, "refuse", f"Return {ret.pk}")
        ret.staff_note = note[:300]
        ret.save(update_fields=["status", "staff_note"])
        log_move(order, order.status, actor=actor, title="Return refused", note=note[:300], type="return.refused", return_id=ret.pk)
        emails.queue(order, "return_refused", return_id=ret.pk)
        return ret


def receive(return_id, *, actor, restockable: bool) -> Return:
    """The parcel is back: refund its units' share, restock them if they can be sold again."""
    with transaction.atomic():
        order, ret = _lock(return_id)
        _receive(order, ret, actor=actor, restockable=restockable)
        return ret


def return_everything(order_id, *, actor, restockable: bool) -> Return:
    """Staff take back every unit still with the shopper at once (a parcel refused at the door, say)."""
    with transaction.atomic():
        order = lock_order(order_id)
        if order.status != Status.DELIVERED:
            raise OrderError(
                f"Order {order.number} is {Status(order.status).label.lower()}; it cannot be returned now.",
                OrderErrorCode.INVALID_MOVE,
            )
        left = selectors.returnable_units(order)
        if not left:
            raise OrderError(f"Every unit of order {order.number} is already being returned.", OrderErrorCode.INVALID_MOVE)
        ret = _open(order, left, reason=ReturnReason.OTHER, comment="Returned by the store")
        _receive(order, ret, actor=actor, restockable=restockable)
        return ret


def _receive(order, ret, *, actor, restockable) -> None:
    make_transition(ret, "receive", f"Return {ret.pk}")
    lines = list(ret.lines.select_related("item"))
    amount = refund_due(order, lines)
    payment = charges.refund(order, amount=amount, key=f"return-{ret.pk}", mail=False) if amount > 0 else None
    ret.refund_amount = payment.amount if payment else Decimal("0.00")
    ret.restocked = restockable
    ret.received_at = timezone.now()
    ret.save(update_fields=["status", "refund_amount", "restocked", "received_at"])
    if restockable:
        _restock(lines)
    units = sum(line.quantity for line in lines)
    note = (
        f"{units} unit{'s' if units != 1 else ''} back"
        f"{', restocked' if restockable else ', not restockable'}; ${ret.refund_amount:,.2f} refunded"
    )
    details = {"return_id": ret.pk, "refund": str(ret.refund_amount)}
    if _all_back(order):
        move(order, "return_", actor=actor, note=note, **details)
    else:
        log_move(order, order.status, actor=actor, title="Partly returned", note=note, type="return.received", **details)
    emails.queue(order, "return_received", return_id=ret.pk)


def refund_due(order, lines) -> Decimal:
    """What the policy refunds for these lines (see the module's docstring)."""
    goods = sum((line.item.unit_price * line.quantity for line in lines), Decimal("0.00"))
    left = order.total - charges.refunded(order)
    if _all_back(order, also=lines):
        return left
    share = goods / order.subtotal if order.subtotal else Decimal("0")
    extras = (order.shipping * share).quantize(CENTS, ROUND_HALF_UP) + (order.tax * share).quantize(CENTS, ROUND_HALF_UP)
    return min(goods + extras, left)


def _all_back(order, also=()) -> bool:
    """Whether every unit of the order is in a received return (counting ``also``, being received)."""
    back = Counter()
    for line in ReturnLine.objects.filter(ret__order=order, ret__status=ReturnStatus.RECEIVED).exclude(
        pk__in=[line.pk for line in also]
    ):
        back[line.item_id] += line.quantity
    for line in also:
        back[line.item_id] += line.quantity
    return all(back[item.pk] >= item.quantity for item in order.items.all())


def _restock(lines) -> None:
    lines = [line for line in lines if line.item.product_id is not None and line.warehouse_id is not None]
    locked = stock.lock(line.item.product_id for line in lines)
    for line in lines:
        if (line.item.product_id, line.warehouse_id) in locked:
            stock.restock(locked, line.item.product_id, [stock.Allocation(line.warehouse_id, line.quantity)])


def _lock(return_id) -> tuple[Order, Return]:
    order_id = Return.objects.filter(pk=return_id).values_list("order_id", flat=True).first()
    if order_id is None:
        raise OrderError("No such return.", OrderErrorCode.NOT_FOUND)
    order = lock_order(order_id)
    return order, Return.objects.get(pk=return_id)
