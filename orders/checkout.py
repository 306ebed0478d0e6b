"""Checkout: turn a cart into an order, charge it, and settle checkouts that stopped half-way.

Placing is one transaction: the cart row, then its reservation rows, then the
inventory rows (one ordered ``catalog.stock.lock`` call; the lock order shared
with carts and staff stock edits is in ``catalog/stock.py``'s docstring), the
order and its items, its timeline (``OrderEvent``) and an ``orders`` event in
the outbox.

The gateway is called outside that transaction: a slow processor must not
hold the stock locks of every product in the cart. Its answer is recorded in
a second transaction under the order row lock, which is also where a cancel
or the settling job may have got first.
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

from amazon_site.core import metrics, ratelimit
from cart import services as cart_services
from cart.errors import CartError, CartErrorCode

from . import charges, emails, fulfilment, timeline
from .errors import CheckoutError, CheckoutErrorCode, OrderError
from .models import ADDRESS_FIELDS, Address, CancelReason, ChargeState, Order, OrderItem, Payment, Status
from .payments import Card, GatewayUnavailable, get_gateway
from .pricing import order_totals

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


def unconfirmed_settled_within_minutes() -> int:
    """How long an order whose charge went unanswered may stay pending, at most.

    It is settled at the first run of the settling job once it is
    ORDER_UNFINISHED_CHECKOUT_MINUTES old: that age plus one interval of the job.
    """
    return settings.ORDER_UNFINISHED_CHECKOUT_MINUTES + settings.ORDER_SETTLE_INTERVAL_MINUTES


def payment_unconfirmed_message() -> str:
    return (
        "We could not confirm your payment with the card processor yet. Your order is held for you: within about "
        f"{unconfirmed_settled_within_minutes()} minutes it will be paid, or cancelled with nothing charged."
    )


def attempt_limit(user) -> ratelimit.Limit:
    """Checkout submissions per account (``RATELIMIT_CHECKOUT_USER``): one budget for the page and the API.

    Taken before anything is placed or charged, so a refused attempt costs nothing.
    """
    return ratelimit.limit("checkout", user.pk, "RATELIMIT_CHECKOUT_USER")


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
    except (CartError, IntegrityError) as error:
        # The first submission held the cart lock and emptied the cart; this
        # one waited for it, and finds its order.
        if (existing := _order_for_key(user, checkout_key)) is not None:
            return _result_of(existing)
        if isinstance(error, IntegrityError):
            raise
        metrics.checkout("refused")
        code = _CODE_OF_CART_ERROR.get(error.code, CheckoutErrorCode.CART_CHANGED)
        raise CheckoutError(str(error), code, error.lines) from error
    return _charge(order, card, user=user, cart_id=cart_id)


_CODE_OF_CART_ERROR = {
    CartErrorCode.EMPTY: CheckoutErrorCode.CART_EMPTY,
    CartErrorCode.OUT_OF_STOCK: CheckoutErrorCode.OUT_OF_STOCK,
}


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
        raise CheckoutError("This checkout form is not yours. Please start checkout again.", CheckoutErrorCode.NOT_YOURS)
    return order


def _place(user, cart_id, address, checkout_key, expected_total) -> Order:
    sold = cart_services.sell_cart(cart_id)
    subtotal = sum((line.price * line.quantity for line in sold), Decimal("0.00"))
    totals = order_totals(subtotal)
    if totals.total != expected_total:
        metrics.checkout("refused")
        raise CheckoutError(
            f"Prices changed since you reviewed your order: the total is now {totals.total}. "
            "Please review it and confirm again.",
            CheckoutErrorCode.PRICE_CHANGED,
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
    timeline.log_move(order, "", actor=user, note="Order placed")
    return order


def _new_number() -> str:
    digits = f"{secrets.randbelow(10**17):017d}"
    return f"{digits[:3]}-{digits[3:10]}-{digits[10:]}"


def _charge(order, card: Card, *, user, cart_id) -> PlaceResult:
    gateway = get_gateway()
    try:
        charge = gateway.charge(
            amount=order.total, currency=order.currency, card=card, idempotency_key=charges.charge_key(order.number)
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
        order = timeline.lock_order(order.pk)
        if order.status != Status.PENDING:
            # Settled meanwhile: cancelled, or taken for an unfinished checkout.
            # A charge that went through goes back (unless that settling found it first).
            if not order.payments.filter(kind=Payment.Kind.CHARGE).exists():
                charges.record_charge(order, charge, gateway=gateway.name, card_brand=card.brand, card_last4=card.last4)
                charges.refund(order)
            return PlaceResult(order)
        # Paid or cancelled next: that move saves the charge state with the status.
        charges.record_charge(
            order, charge, gateway=gateway.name, card_brand=card.brand, card_last4=card.last4, save=False
        )
        if charge.succeeded:
            fulfilment.pay(order, actor=user, note=f"Paid with {card.brand} ending {card.last4}")
            emails.queue(order, "placed")
        else:
            fulfilment.cancel(order, CancelReason.PAYMENT_FAILED, actor=user, note=charge.message)
    if not charge.succeeded:
        _return_to_cart(order, cart_id)
        metrics.checkout("declined")
        return PlaceResult(order, declined_message=charge.message)
    metrics.checkout("placed")
    return PlaceResult(order)


def _return_to_cart(order, cart_id) -> None:
    """Put a declined order's items back in the cart, reserved again as far as stock allows."""
    for item in order.items.all():
        if item.product_id is None:
            continue
        try:
            cart_services.add_to_cart(cart_id, item.product_id, min(item.quantity, settings.CART_MAX_LINE_QUANTITY))
        except CartError:
            pass  # no longer sold: the order page still lists it


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
            charge = gateway.find_charge(idempotency_key=charges.charge_key(number))
            with transaction.atomic():
                order = timeline.lock_order(order_id)
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
        charges.mark_settled(order)
        fulfilment.cancel(order, CancelReason.PAYMENT_FAILED, actor=None, note=UNFINISHED_NOTHING_CHARGED)
        return
    charges.record_charge(order, charge, gateway=gateway)
    if charge.succeeded:
        fulfilment.pay(order, actor=None, note=UNFINISHED_PAID)
        emails.queue(order, "placed")  # the shopper was told "not confirmed yet"; this confirms it
    else:
        fulfilment.cancel(order, CancelReason.PAYMENT_FAILED, actor=None, note=charge.message)


def _settle_cancelled(order, charge, *, gateway: str) -> None:
    if charge is None:
        charges.mark_settled(order)  # nothing was charged; the cancel already restocked
        return
    charges.record_charge(order, charge, gateway=gateway)
    charges.refund(order)
    if charge.succeeded:
        log.info("order %s: cancelled before its charge was confirmed; the charge is refunded", order.number)
