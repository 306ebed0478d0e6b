"""What the store knows of an order's money: the gateway's answers, kept as ``Payment`` rows.

Checkout records the answer to its charge here; a cancel or a return refunds
it here. Every function runs inside the caller's transaction, under the order
row lock, which is what rules out a second refund or a second record racing
this one. The gateway calls made here (``find_charge``, ``refund``) are made
under that order lock only, never under a stock lock (see ``catalog/stock.py``
for the lock order).
"""
import logging
from decimal import Decimal

from django.db.models import Sum

from . import emails
from .errors import OrderError, OrderErrorCode
from .models import ChargeState, Order, Payment
from .payments import GatewayUnavailable, get_gateway

log = logging.getLogger(__name__)


def charge_key(order_number: str) -> str:
    # The idempotency key makes a retried charge of this order return the first answer.
    return f"order-{order_number}"


def record_charge(order: Order, charge, *, gateway: str, card_brand="", card_last4="", save=True) -> Payment:
    """Record the gateway's answer to the order's charge, which settles what the store knows of it.

    ``save=False`` when a move of the order follows at once: it saves the charge state with the status.
    """
    order.charge_state = ChargeState.SETTLED
    if save:
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


def mark_settled(order: Order) -> None:
    """Nothing was charged: the store is done with the gateway for this order."""
    order.charge_state = ChargeState.SETTLED
    order.save(update_fields=["charge_state"])


def find_unrecorded_charge(order: Order) -> None:
    """Before a cancel: record a charge whose answer was lost, so the cancel refunds it.

    A gateway still down, or one that saw no charge yet (checkout may still be
    charging), leaves the charge state open: the charging checkout or the
    settling job refunds whatever went through.
    """
    if order.charge_state == ChargeState.SETTLED or order.payments.filter(kind=Payment.Kind.CHARGE).exists():
        return
    gateway = get_gateway()
    try:
        charge = gateway.find_charge(idempotency_key=charge_key(order.number))
    except GatewayUnavailable:
        log.warning("order %s: cancelled with its charge unconfirmed; the settling job will ask again", order.number)
        return
    if charge is not None:
        record_charge(order, charge, gateway=gateway.name)


def refunded(order: Order) -> Decimal:
    """What the gateway has given back on the order so far."""
    total = order.payments.filter(kind=Payment.Kind.REFUND, outcome=Payment.Outcome.SUCCEEDED).aggregate(sum=Sum("amount"))
    return total["sum"] or Decimal("0.00")


def refund(order: Order, *, amount: Decimal | None = None, key: str = "", mail: bool = True) -> Payment | None:
    """Refund ``amount`` of the order's successful charge, or all that is left of it; None if nothing is.

    The order row lock rules out a second refund racing this one, and never
    more than the charge goes back: a cancel after a partial refund gives the
    rest. ``key`` tells the gateway's idempotency keys of several partial
    refunds (returns) apart; ``mail=False`` when the caller's own mail tells of it.
    """
    charge = order.payments.filter(kind=Payment.Kind.CHARGE, outcome=Payment.Outcome.SUCCEEDED).first()
    if charge is None:
        return None
    left = charge.amount - refunded(order)
    amount = left if amount is None else min(amount, left)
    if amount <= 0:
        return None
    answer = get_gateway().refund(
        amount=amount, currency=order.currency, charge_reference=charge.reference,
        idempotency_key=f"refund-{order.number}{key and '-' + key}",
    )
    payment = Payment.objects.create(
        order=order,
        kind=Payment.Kind.REFUND,
        outcome=Payment.Outcome.SUCCEEDED if answer.succeeded else Payment.Outcome.DECLINED,
        gateway=charge.gateway,
        reference=answer.reference,
        amount=amount,
        card_brand=charge.card_brand,
        card_last4=charge.card_last4,
        message=answer.message,
    )
    if not answer.succeeded:
        raise OrderError(f"The refund failed: {answer.message or 'the gateway refused it'}.", OrderErrorCode.REFUND_FAILED)
    if mail:
        emails.queue(order, "refunded")
    return payment
