"""What an order costs: its subtotal, shipping and tax, the one rule checkout and its summary share."""
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings

CENTS = Decimal("0.01")


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
