"""Every write to orders: checkout, payment, and the moves of the state machine.

Locks follow the one lock order in ``catalog/stock.py``'s docstring (the sale
through the cart's; a cancellation's order row before the stock it
restocks). Each step is one transaction that also writes the order's timeline
(``OrderEvent``) and an ``orders`` event to the outbox.

Gateways are called outside the transaction that places an order: a slow
processor must not hold the stock locks of every product in the cart. A
cancel asks the gateway (find_charge, refund) under the order row lock only,
before it takes any stock lock.
"""
import logging
import secrets
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django_fsm import TransitionNotAllowed

from amazon_site.core import metrics
from amazon_site.celery import enqueue_on_commit
from amazon_site.events.services import record
from cart import services as cart_services
from catalog import stock

from . import tasks
from .models import ADDRESS_FIELDS, Address, CancelReason, ChargeState, Order, OrderEvent, OrderItem, Payment, Status
from .payments import Card, GatewayUnavailable, get_gateway
from .selectors import can_cancel, order_totals

log = logging.getLogger(__name__)

# Timeline notes of orders settled after their checkout stopped half-way.
UNFINISHED_NOTHING_CHARGED = "Checkout did not finish; nothing was charged."
UNFINISHED_PAID = "Checkout did not finish; the card had been charged."


# How long a repeat of a checkout still charging the card is asked to wait before asking again.
CHARGE_IN_PROGRESS_RETRY_SECONDS = 5


def payment_in_progress_message() -> str:
    return (
        "This checkout is still being paid: the card processor has not answered yet. "
        f"Please check again in {CHARGE_IN_PROGRESS_RETRY_SECONDS} seconds; your card is charged only once."
    )


def payment_unconfirmed_message() -> str:
    return (
        "We could not confirm your payment with the card processor yet. Your order is held for you: within about "
        # + 5: the settling job runs every five minutes.
        f"{settings.ORDER_UNFINISHED_CHECKOUT_MINUTES + 5} minutes it will be paid, or cancelled with nothing charged."
    )


class CheckoutError(Exception):
    """The cart cannot become an order as it is; the message is meant for the shopper."""

    def __init__(self, message, lines=()):
        super().__init__(message)
        self.lines = list(lines)  # titles of cart lines to fix


class OrderError(Exception):
    """A move the order's state does not allow; the message is meant for whoever asked."""


@dataclass(frozen=True)
class PlaceResult:
    order: Order
    declined_message: str | None = None  # set when the card was declined; the order is then cancelled
    # The gateway did not answer: the order stays pending until settle_unfinished_checkouts asks again.
    payment_unconfirmed: bool = False
    # A repeat of a checkout whose first submission is charging the card right now.
    in_progress: bool = False


def save_address(*, user, data: dict) -> Address:
    """Save a shipping address, or reuse the same one saved before."""
    address = Address(user=user, **data)
    address.full_clean()
    same = Address.objects.filter(user=user, **{field: getattr(address, field) for field in ADDRESS_FIELDS}).first()
    if same is not None:
        return same
    address.save()
    return address


def place_order(*, user, cart_id, address: Address, card: Card, checkout_key, expected_total: Decimal) -> PlaceResult:
    """Turn the cart into an order and charge it, once per checkout key.

    A second submission of the same form (a double click, a retry after a
    timeout) returns the order the first one placed, and never charges again.
    """
    if (existing := _order_for_key(user, checkout_key)) is not None:
        return _result_of(existing)
    try:
        with transaction.atomic():
            order = _place(user, cart_id, address, checkout_key, expected_total)
    except (cart_services.CartError, IntegrityError) as error:
        # The first submission held the cart lock and emptied the cart; this
        # one waited for it, and finds its order.
        if (existing := _order_for_key(user, checkout_key)) is not None:
            return _result_of(existing)
        if isinstance(error, IntegrityError):
            raise
        metrics.checkout("refused")
        raise CheckoutError(str(error), error.lines) from error
    return _charge(order, card, user=user, cart_id=cart_id)


def _result_of(order) -> PlaceResult:
    """What the first submission of a checkout form ended with, for a repeat of it."""
    if order.status == Status.PENDING and not order.payments.exists():
        # CHARGING until the first submission hears from the gateway, UNANSWERED if it never did.
        if order.charge_state == ChargeState.CHARGING:
            return PlaceResult(order, in_progress=True)
        return PlaceResult(order, payment_unconfirmed=True)
    if order.cancel_reason == CancelReason.PAYMENT_FAILED:
        declined = order.payments.filter(kind=Payment.Kind.CHARGE, outcome=Payment.Outcome.DECLINED).last()
        return PlaceResult(order, declined_message=declined.message if declined else "The payment was declined.")
    return PlaceResult(order)


def _order_for_key(user, checkout_key):
    order = Order.objects.filter(checkout_key=checkout_key).first()
    if order is not None and order.user_id != user.pk:
        raise CheckoutError("This checkout form is not yours. Please start checkout again.")
    return order


def _place(user, cart_id, address, checkout_key, expected_total) -> Order:
    sold = cart_services.sell_cart(cart_id)
    subtotal = sum((line.price * line.quantity for line in sold), Decimal("0.00"))
    totals = order_totals(subtotal)
    if totals.total != expected_total:
        metrics.checkout("refused")
        raise CheckoutError(
            f"Prices changed since you reviewed your order: the total is now {totals.total}. "
            "Please review it and confirm again."
        )
    order = Order.objects.create(
        number=_new_number(),
        user=user,
        checkout_key=checkout_key,
        shipping_address=address.as_dict(),
        subtotal=totals.subtotal,
        shipping=totals.shipping,
        tax=totals.tax,
        total=totals.total,
        charge_state=ChargeState.CHARGING,
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product_id=line.product_id,
            title=line.title,
            unit_price=line.price,
            quantity=line.quantity,
            line_total=line.price * line.quantity,
            allocations={str(a.warehouse_id): a.quantity for a in line.allocations},
        )
        for line in sold
    )
    _log(order, "", actor=user, note="Order placed")
    return order


def _new_number() -> str:
    digits = f"{secrets.randbelow(10**17):017d}"
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"


def _charge_key(order_number: str) -> str:
    # The idempotency key makes a retried charge of this order return the first answer.
    return f"order-{order_number}"


def _charge(order, card: Card, *, user, cart_id) -> PlaceResult:
    gateway = get_gateway()
    try:
        charge = gateway.charge(
            amount=order.total, currency=order.currency, card=card, idempotency_key=_charge_key(order.number)
        )
    except Exception as error:
        # Whether the card was charged is unknown: repeats of this checkout stop
        # waiting for an answer, and the settling job will ask for it.
        Order.objects.filter(pk=order.pk, charge_state=ChargeState.CHARGING).update(charge_state=ChargeState.UNANSWERED)
        order.charge_state = ChargeState.UNANSWERED
        if not isinstance(error, GatewayUnavailable):
            raise
        log.warning("order %s: the gateway did not answer; the order stays pending until it is settled", order.number)
        metrics.checkout("unconfirmed")
        return PlaceResult(order, payment_unconfirmed=True)
    with transaction.atomic():
        order = _locked(order.pk)
        if order.status != Status.PENDING:
            # Settled meanwhile: cancelled, or taken for an unfinished checkout.
            # A charge that went through goes back (unless that settling found it first).
            if not order.payments.filter(kind=Payment.Kind.CHARGE).exists():
                _record_payment(order, charge, gateway=gateway.name, card_brand=card.brand, card_last4=card.last4)
                _refund(order)
            return PlaceResult(order)
        _record_payment(order, charge, gateway=gateway.name, card_brand=card.brand, card_last4=card.last4)
        if charge.succeeded:
            _move(order, "pay", actor=user, note=f"Paid with {card.brand} ending {card.last4}")
            if user.email:
                enqueue_on_commit(tasks.send_order_confirmation, order.pk)
        else:
            _cancel(order, CancelReason.PAYMENT_FAILED, actor=user, note=charge.message)
    if not charge.succeeded:
        _return_to_cart(order, cart_id)
        metrics.checkout("declined")
        return PlaceResult(order, declined_message=charge.message)
    metrics.checkout("placed")
    return PlaceResult(order)


def _record_payment(order, charge, *, gateway: str, card_brand="", card_last4="") -> Payment:
    """Record the gateway's answer to the order's charge, which settles what the store knows of it."""
    order.charge_state = ChargeState.SETTLED
    order.save(update_fields=["charge_state"])
    return Payment.objects.create(
        order=order,
        kind=Payment.Kind.CHARGE,
        outcome=Payment.Outcome.SUCCEEDED if charge.succeeded else Payment.Outcome.DECLINED,
        gateway=gateway,
        reference=charge.reference,
        amount=order.total,
        card_brand=card_brand,
        card_last4=card_last4,
        message=charge.message,
    )


def settle_unfinished_checkouts(*, now=None) -> int:
    """Settle orders whose checkout stopped between placing and paying; returns how many.

    Placing commits the order (its stock sold) before the card is charged, so
    a process killed or a connection lost in between leaves an order pending
    with no payment row. After ``ORDER_UNFINISHED_CHECKOUT_MINUTES`` (far
    longer than any charge takes) the gateway is asked what became of the
    charge, by its idempotency key: one that went through pays the order, a
    declined one or none at all cancels it and puts the stock back.

    Orders cancelled while their charge was unanswered (the shopper or staff
    did not wait for the settling) are asked about too: a charge that went
    through is refunded. A gateway still down is asked again at the next run.
    """
    cutoff = (now or timezone.now()) - timedelta(minutes=settings.ORDER_UNFINISHED_CHECKOUT_MINUTES)
    unfinished = (
        Order.objects.filter(created_at__lt=cutoff)
        .filter(Q(status=Status.PENDING) | (Q(status=Status.CANCELLED) & ~Q(charge_state=ChargeState.SETTLED)))
        .exclude(payments__kind=Payment.Kind.CHARGE)
    )
    gateway = get_gateway()
    settled = 0
    for order_id, number in unfinished.values_list("pk", "number"):
        try:
            charge = gateway.find_charge(idempotency_key=_charge_key(number))
            with transaction.atomic():
                order = _locked(order_id)
                if order.payments.filter(kind=Payment.Kind.CHARGE).exists():
                    continue  # its checkout finished after all
                if order.status == Status.PENDING:
                    _settle_pending(order, charge, gateway=gateway.name)
                elif order.status == Status.CANCELLED and order.charge_state != ChargeState.SETTLED:
                    _settle_cancelled(order, charge, gateway=gateway.name)
                else:
                    continue
        except (GatewayUnavailable, OrderError) as error:
            log.warning("order %s: not settled (%s); asking again at the next run", number, error)
            continue
        settled += 1
    return settled


def _settle_pending(order, charge, *, gateway: str) -> None:
    if charge is None:
        _mark_settled(order)
        _cancel(order, CancelReason.PAYMENT_FAILED, actor=None, note=UNFINISHED_NOTHING_CHARGED)
        return
    _record_payment(order, charge, gateway=gateway)
    if charge.succeeded:
        _move(order, "pay", actor=None, note=UNFINISHED_PAID)
    else:
        _cancel(order, CancelReason.PAYMENT_FAILED, actor=None, note=charge.message)


def _settle_cancelled(order, charge, *, gateway: str) -> None:
    if charge is None:
        _mark_settled(order)  # nothing was charged; the cancel already restocked
        return
    _record_payment(order, charge, gateway=gateway)
    _refund(order)
    if charge.succeeded:
        log.info("order %s: cancelled before its charge was confirmed; the charge is refunded", order.number)


def _mark_settled(order) -> None:
    order.charge_state = ChargeState.SETTLED
    order.save(update_fields=["charge_state"])


def _find_unrecorded_charge(order) -> None:
    """Before a cancel: record a charge whose answer was lost, so the cancel refunds it.

    A gateway still down, or one that saw no charge yet (checkout may still be
    charging), leaves the charge state open: the charging checkout or the
    settling job refunds whatever went through.
    """
    if order.charge_state == ChargeState.SETTLED or order.payments.filter(kind=Payment.Kind.CHARGE).exists():
        return
    gateway = get_gateway()
    try:
        charge = gateway.find_charge(idempotency_key=_charge_key(order.number))
    except GatewayUnavailable:
        log.warning("order %s: cancelled with its charge unconfirmed; the settling job will ask again", order.number)
        return
    if charge is not None:
        _record_payment(order, charge, gateway=gateway.name)


def _return_to_cart(order, cart_id) -> None:
    """Put a declined order's items back in the cart, reserved again as far as stock allows."""
    for item in order.items.all():
        if item.product_id is None:
            continue
        try:
            cart_services.add_to_cart(cart_id, item.product_id, min(item.quantity, settings.CART_MAX_LINE_QUANTITY))
        except cart_services.CartError:
            pass  # no longer sold: the order page still lists it


def cancel_by_customer(*, user, order_id) -> Order:
    with transaction.atomic():
        order = Order.objects.select_for_update().filter(pk=order_id, user=user).first()
        if order is None:
            raise OrderError("No such order.")
        if not can_cancel(order):
            raise OrderError(f"Order {order.number} is {order.get_status_display().lower()} and can no longer be cancelled.")
        _cancel(order, CancelReason.CUSTOMER, actor=user)
        return order


def cancel_by_staff(order_id, *, actor) -> Order:
    with transaction.atomic():
        order = _locked(order_id)
        _cancel(order, CancelReason.STAFF, actor=actor)
        return order


def pack(order_id, *, actor) -> Order:
    with transaction.atomic():
        order = _locked(order_id)
        _move(order, "pack", actor=actor)
        return order


def ship(order_id, *, actor, carrier: str, tracking_number: str) -> Order:
    carrier, tracking_number = carrier.strip(), tracking_number.strip()
    if not carrier or not tracking_number:
        raise OrderError("Shipping needs a carrier and a tracking number.")
    with transaction.atomic():
        order = _locked(order_id)
        _move(order, "ship", actor=actor, note=f"{carrier}, tracking number {tracking_number}")
        enqueue_on_commit(tasks.send_shipping_notice, order.pk)
        return order


def deliver(order_id, *, actor) -> Order:
    with transaction.atomic():
        order = _locked(order_id)
        _move(order, "deliver", actor=actor)
        return order


def return_order(order_id, *, actor, restockable=True) -> Order:
    """A delivered order comes back: refund it, and restock only what can be sold again."""
    with transaction.atomic():
        order = _locked(order_id)
        _move(order, "return_", actor=actor, note="Restocked" if restockable else "Not restockable")
        _refund(order)
        if restockable:
            _restock(order)
        return order


def _locked(order_id) -> Order:
    try:
        return Order.objects.select_for_update().get(pk=order_id)
    except Order.DoesNotExist:
        raise OrderError("No such order.") from None


def _cancel(order, reason, *, actor, note="") -> None:
    _move(order, "cancel", actor=actor, note=note or CancelReason(reason).label, reason=reason)
    _find_unrecorded_charge(order)
    _refund(order)
    _restock(order)


def _refund(order) -> None:
    """Refund a successful charge once; the order row lock rules out a second refund racing this one."""
    charge = order.payments.filter(kind=Payment.Kind.CHARGE, outcome=Payment.Outcome.SUCCEEDED).first()
    if charge is None or order.payments.filter(kind=Payment.Kind.REFUND, outcome=Payment.Outcome.SUCCEEDED).exists():
        return
    refund = get_gateway().refund(
        amount=charge.amount, currency=order.currency, charge_reference=charge.reference,
        idempotency_key=f"refund-{order.number}",
    )
    Payment.objects.create(
        order=order,
        kind=Payment.Kind.REFUND,
        outcome=Payment.Outcome.SUCCEEDED if refund.succeeded else Payment.Outcome.DECLINED,
        gateway=charge.gateway,
        reference=refund.reference,
        amount=charge.amount,
        card_brand=charge.card_brand,
        card_last4=charge.card_last4,
        message=refund.message,
    )
    if not refund.succeeded:
        raise OrderError(f"The refund failed: {refund.message or 'the gateway refused it'}.")


def _restock(order) -> None:
    items = [item for item in order.items.all() if item.product_id is not None]
    locked = stock.lock(item.product_id for item in items)
    for item in items:
        allocations = [stock.Allocation(int(warehouse), units) for warehouse, units in sorted(item.allocations.items())]
        stock.restock(locked, item.product_id, [a for a in allocations if (item.product_id, a.warehouse_id) in locked])


_VERBS = {"pay": "paid", "pack": "packed", "ship": "shipped", "deliver": "delivered", "cancel": "cancelled", "return_": "returned"}


def _move(order, transition, *, actor, note="", reason=None) -> None:
    source = order.status
    try:
        getattr(order, transition)()
    except TransitionNotAllowed:
        raise OrderError(
            f"Order {order.number} is {Status(source).label.lower()}; it cannot be {_VERBS[transition]} now."
        ) from None
    if reason:
        order.cancel_reason = reason
    order.save(update_fields=["status", "cancel_reason"])
    _log(order, source, actor=actor, note=note)


def _log(order, source, *, actor, note) -> None:
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
