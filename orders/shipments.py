"""Parcels: a paid order leaves in one shipment per warehouse, and its status follows them.

Staff pack, ship (carrier, tracking number) and deliver each parcel through
``pack``, ``ship`` and ``deliver`` here, from the admin, the staff API and the
order-level moves of ``orders.fulfilment`` alike. Each is one transaction
that locks the order row first (the parcel's parent, so one lock order for
every change of an order), moves the parcel, then the order once all its
parcels got there: packed, shipped or delivered when the last one is. Until
then the timeline says "Partly shipped" and so on; either way the step is
one timeline row and one outbox event.
"""
from django.db import transaction
from django.utils import timezone

from catalog.models import Warehouse

from . import emails
from .delivery import estimated_delivery
from .errors import OrderError, OrderErrorCode
from .models import Shipment, ShipmentLine, ShipmentStatus, Status
from .timeline import lock_order, log_move, make_transition, move

# A parcel's progress, and the order status once every live parcel has reached a step.
PROGRESS = (ShipmentStatus.PENDING, ShipmentStatus.PACKED, ShipmentStatus.SHIPPED, ShipmentStatus.DELIVERED)
ORDER_STATUS_AT = {
    ShipmentStatus.PENDING: Status.PAID,
    ShipmentStatus.PACKED: Status.PACKED,
    ShipmentStatus.SHIPPED: Status.SHIPPED,
    ShipmentStatus.DELIVERED: Status.DELIVERED,
}
# The order transition that reaches each status, and the timeline's title for a step some parcels made.
ORDER_TRANSITION = {Status.PACKED: "pack", Status.SHIPPED: "ship", Status.DELIVERED: "deliver"}
PARTLY = {"pack": "Partly packed", "ship": "Partly shipped", "deliver": "Partly delivered"}


def create_for(order) -> list[Shipment]:
    """The parcels of a just-paid order: one per warehouse its items' units were taken from.

    Units without a warehouse on record (orders written before shipments
    existed, or imported) go in one parcel of their own.
    """
    return _create(order, ShipmentStatus.PENDING)


def ensure(order) -> list[Shipment]:
    """The parcels of a locked order, made now for one paid before parcels existed, at its status."""
    shipments = list(order.shipments.select_related("warehouse"))
    if shipments or order.status not in ORDER_STATUS_AT.values():
        return shipments
    status = next(step for step, reached in ORDER_STATUS_AT.items() if reached == order.status)
    return _create(order, status)


def _create(order, status) -> list[Shipment]:
    units: dict[int | None, list[tuple]] = {}
    for item in order.items.all():
        allocations = {int(warehouse): count for warehouse, count in item.allocations.items() if count > 0}
        for warehouse_id, count in sorted(allocations.items()) or [(None, item.quantity)]:
            units.setdefault(warehouse_id, []).append((item, count))
    warehouses = Warehouse.objects.in_bulk([pk for pk in units if pk is not None])
    country = order.shipping_address.get("country", "")
    made = []
    for warehouse_id in sorted(units, key=lambda pk: (pk is None, pk or 0)):
        warehouse = warehouses.get(warehouse_id)
        shipment = Shipment.objects.create(
            order=order,
            warehouse=warehouse,
            status=status,
            estimated_delivery=estimated_delivery(warehouse and warehouse.code, country, now=order.created_at),
        )
        ShipmentLine.objects.bulk_create(
            ShipmentLine(shipment=shipment, item=item, quantity=count) for item, count in units[warehouse_id]
        )
        made.append(shipment)
    return made


def pack(shipment_id, *, actor) -> Shipment:
    return _move_one(shipment_id, "pack", actor=actor)


def ship(shipment_id, *, actor, carrier: str, tracking_number: str) -> Shipment:
    carrier, tracking_number = _shipping_details(carrier, tracking_number)
    return _move_one(shipment_id, "ship", actor=actor, carrier=carrier, tracking_number=tracking_number)


def deliver(shipment_id, *, actor) -> Shipment:
    return _move_one(shipment_id, "deliver", actor=actor)


def _shipping_details(carrier: str, tracking_number: str) -> tuple[str, str]:
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or not tracking_number:
        raise OrderError("Shipping needs a carrier and a tracking number.", OrderErrorCode.SHIPPING_DETAILS_MISSING)
    return carrier, tracking_number


def _move_one(shipment_id, transition, *, actor, **details) -> Shipment:
    with transaction.atomic():
        order_id = Shipment.objects.filter(pk=shipment_id).values_list("order_id", flat=True).first()
        if order_id is None:
            raise OrderError("No such parcel.", OrderErrorCode.NOT_FOUND)
        order = lock_order(order_id)
        shipments = ensure(order)
        shipment = next(shipment for shipment in shipments if shipment.pk == shipment_id)
        step(order, shipments, shipment, transition, actor=actor, **details)
        return shipment


def move_all(order, transition, *, actor, **details) -> None:
    """An order-level move of a locked order: every parcel that can make it makes it.

    Shipping takes one carrier and tracking number, so it moves an order of one
    parcel only; a parcel each from several warehouses is shipped on its own.
    """
    shipments = ensure(order)
    source = PROGRESS[PROGRESS.index(ShipmentStatus(Shipment.VERBS[transition])) - 1]
    ready = [shipment for shipment in shipments if shipment.status == source]
    if not ready:
        raise OrderError(
            f"Order {order.number} is {Status(order.status).label.lower()}; it cannot be {Shipment.VERBS[transition]} now.",
            OrderErrorCode.INVALID_MOVE,
        )
    if transition == "ship":
        details = dict(zip(("carrier", "tracking_number"), _shipping_details(**details)))
        if len(_live(shipments)) > 1:
            raise OrderError(
                f"Order {order.number} goes out in {len(_live(shipments))} parcels, from different warehouses: "
                "ship each one from the order's page with its own tracking number.",
                OrderErrorCode.SEVERAL_PARCELS,
            )
    for shipment in ready:
        step(order, shipments, shipment, transition, actor=actor, **details)


def cancel_all(order) -> None:
    """The parcels of an order being cancelled (none has left: the order's cancel transition checks)."""
    for shipment in order.shipments.filter(status__in=[ShipmentStatus.PENDING, ShipmentStatus.PACKED]):
        shipment.cancel()
        shipment.save(update_fields=["status"])


def step(order, shipments, shipment, transition, *, actor, carrier="", tracking_number="") -> None:
    """Move one parcel of a locked order, then the order if every live parcel got there."""
    make_transition(shipment, transition, describe(shipment, shipments) or f"The parcel of order {order.number}")
    now = timezone.now()
    if transition == "ship":
        shipment.carrier, shipment.tracking_number, shipment.shipped_at = carrier, tracking_number, now
        code = shipment.warehouse.code if shipment.warehouse else None
        shipment.estimated_delivery = estimated_delivery(code, order.shipping_address.get("country", ""), shipped_at=now)
    elif transition == "deliver":
        shipment.delivered_at = now
    shipment.save()
    note = describe(shipment, shipments)
    if transition == "ship":
        note = ": ".join(part for part in (note, f"{carrier}, tracking number {tracking_number}") if part)
    details = {"shipment_id": shipment.pk, "shipment_status": shipment.status}
    target = ORDER_STATUS_AT[min((s.status for s in _live(shipments)), key=PROGRESS.index)]
    moved = target != order.status
    if moved:
        move(order, ORDER_TRANSITION[target], actor=actor, note=note, **details)
    else:
        title = PARTLY[transition]
        log_move(order, order.status, actor=actor, note=note, title=title, type=f"shipment.{shipment.status}", **details)
    if transition == "ship":
        emails.queue(order, "shipped", carrier=carrier, tracking_number=tracking_number, shipment_id=shipment.pk)
    elif moved and target == Status.DELIVERED:
        emails.queue(order, "delivered")


def describe(shipment, shipments) -> str:
    """"Parcel 1 of 2, from Newark, NJ"; "" for the one parcel of an order, which the order's own steps describe."""
    live = _live(shipments) or shipments
    if len(live) <= 1:
        return ""
    position = next((index for index, other in enumerate(live, 1) if other.pk == shipment.pk), 0)
    where = f", from {shipment.warehouse.name}" if shipment.warehouse else ""
    return f"Parcel {position} of {len(live)}{where}"


def _live(shipments) -> list[Shipment]:
    return [shipment for shipment in shipments if shipment.status != ShipmentStatus.CANCELLED]
