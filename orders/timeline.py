"""The primitives every change of an order goes through: lock it, move its status, write its timeline.

``checkout``, ``fulfilment``, ``shipments`` and ``returns`` call these inside
their own transaction, under the order row lock, so each step of an order is
one timeline row and one ``orders`` event in the outbox, written or rolled
back with the change itself.
"""
from django_fsm import TransitionNotAllowed

from amazon_site.events.services import record

from .errors import OrderError, OrderErrorCode
from .models import Order, OrderEvent


def lock_order(order_id) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise OrderError("No such order.", OrderErrorCode.NOT_FOUND) from None


def make_transition(machine, transition, name: str) -> None:
    """Make one transition of a state machine (an order, a parcel, a return), or refuse it saying where ``name`` is."""
    status = machine.get_status_display().lower()
    try:
        getattr(machine, transition)()
    except TransitionNotAllowed:
        raise OrderError(
            f"{name} is {status}; it cannot be {machine.VERBS[transition]} now.", OrderErrorCode.INVALID_MOVE
        ) from None


def move(order, transition, *, actor, note="", reason=None, **details) -> None:
    """Make one transition of a locked order, with its timeline row and outbox event."""
    source = order.status
    make_transition(order, transition, f"Order {order.number}")
    if reason:
        order.cancel_reason = reason
    order.save(update_fields=["status", "cancel_reason", "charge_state"])
    log_move(order, source, actor=actor, note=note, **details)


def log_move(order, source, *, actor, note, title="", **details) -> None:
    """The timeline row and the outbox event of one step, in the step's transaction.

    A step that leaves the status as it is (a parcel of several shipped, a
    return requested) has a ``title``; its event's type says what happened
    (``type`` in ``details``), else the type is the status reached.
    """
    event = OrderEvent.objects.create(
        order=order, from_status=source, to_status=order.status, actor=actor, title=title, note=note
    )
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
            **details,
        },
    )
