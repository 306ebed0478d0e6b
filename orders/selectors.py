"""Read paths of orders: checkout's summary, a shopper's orders, their detail."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.http import Http404

from cart.selectors import cart_detail

from .models import Address, Order, OrderItem, Status

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class SummaryLine:
    product_id: int
    title: str
    quantity: int
    unit_price: Decimal  # the price now, what the order will charge
    price_when_added: Decimal | None
    blocked: bool  # short of stock or no longer sold: fix it in the cart

    @property
    def line_total(self) -> Decimal:
        return self.unit_price * self.quantity

    @property
    def price_changed(self) -> bool:
        return self.price_when_added is not None and self.price_when_added != self.unit_price


@dataclass(frozen=True)
class Totals:
    subtotal: Decimal
    shipping: Decimal
    tax: Decimal

    @property
    def total(self) -> Decimal:
        return self.subtotal + self.shipping + self.tax


def order_totals(subtotal: Decimal) -> Totals:
    """Shipping is free from ORDER_FREE_SHIPPING_FROM; tax is a rate on goods and shipping."""
    shipping = Decimal("0.00") if subtotal >= settings.ORDER_FREE_SHIPPING_FROM else settings.ORDER_SHIPPING_FEE
    tax = ((subtotal + shipping) * settings.ORDER_TAX_RATE).quantize(CENTS, rounding=ROUND_HALF_UP)
    return Totals(subtotal=subtotal, shipping=shipping, tax=tax)


@dataclass(frozen=True)
class CheckoutSummary:
    lines: list[SummaryLine]
    totals: Totals

    @property
    def is_empty(self) -> bool:
        return not self.lines

    @property
    def blocked(self) -> bool:
        return any(line.blocked for line in self.lines)

    @property
    def price_changed(self) -> bool:
        return any(line.price_changed for line in self.lines)

    subtotal = property(lambda self: self.totals.subtotal)
    shipping = property(lambda self: self.totals.shipping)
    tax = property(lambda self: self.totals.tax)
    total = property(lambda self: self.totals.total)


def checkout_summary(*, user, cart_id) -> CheckoutSummary:
    cart = cart_detail(cart_id)
    lines = [
        SummaryLine(
            product_id=line.product.pk,
            title=line.product.title,
            quantity=line.quantity,
            unit_price=line.product.price,
            price_when_added=line.unit_price,
            blocked=line.blocks_checkout,
        )
        for line in cart.lines
    ]
    return CheckoutSummary(lines=lines, totals=order_totals(sum((line.line_total for line in lines), Decimal("0.00"))))


def saved_addresses(user):
    return Address.objects.filter(user=user)


def orders_for_user(user):
    return Order.objects.filter(user=user).order_by("-created_at", "-id")


def order_for_user(user, number) -> Order:
    """A shopper's own order; anyone else's is as good as missing."""
    order = Order.objects.filter(user=user, number=number).first()
    if order is None:
        raise Http404("No such order.")
    return order


def can_cancel(order) -> bool:
    """Shoppers may cancel until the parcel is packed; staff until it ships."""
    return order.status in (Status.PENDING, Status.PAID)


def has_received(user, product_id) -> bool:
    """Whether the shopper has an order holding the product that is now delivered.

    Only delivered orders count, so reviews come from shoppers who have the
    product: an order returned for a refund no longer does (a review written
    before the return stays).
    """
    if not user.is_authenticated:
        return False
    return OrderItem.objects.filter(order__user=user, order__status=Status.DELIVERED, product_id=product_id).exists()
