"""Read paths of orders: checkout's summary, a shopper's orders, their detail, and what was bought.

Apps above orders (recommendations) read orders through the functions near
the end, so the status rules stay in ``orders.models``. ``staff_dashboard`` is
the orders panel of the admin index.
"""
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.http import Http404
from django.utils import timezone

from amazon_site.core import dashboard
from amazon_site.core.dashboard import Figure, changelist, counted
from cart.selectors import cart_detail

from .models import (
    CURRENCY,
    NOT_BOUGHT_STATUSES,
    PAID_STATUSES,
    UNSETTLED_CHARGE_STATES,
    Address,
    CancelReason,
    Order,
    OrderItem,
    OutgoingMail,
    Status,
)
from .pricing import Totals, order_totals


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


def order_page(order) -> dict:
    """What an order's page shows, and its mails too: the order, its items, its timeline and its payments."""
    return {"order": order, "items": order.items.all(), "events": order.events.all(), "payments": order.payments.all()}


def order_for_user(user, number) -> Order:
    """A shopper's own order; anyone else's is as good as missing."""
    order = Order.objects.filter(user=user, number=number).first()
    if order is None:
        raise Http404("No such order.")
    return order


def has_received(user, product_id) -> bool:
    """Whether the shopper has an order holding the product that is now delivered.

    Only delivered orders count, so reviews come from shoppers who have the
    product: an order returned for a refund no longer does (a review written
    before the return stays).
    """
    if not user.is_authenticated:
        return False
    return OrderItem.objects.filter(order__user=user, order__status=Status.DELIVERED, product_id=product_id).exists()


def bought_product_ids(user, product_ids) -> set[int]:
    """Which of the products the shopper bought, in any order not cancelled."""
    return set(
        OrderItem.objects.filter(order__user=user, product_id__in=product_ids)
        .exclude(order__status__in=NOT_BOUGHT_STATUSES)
        .values_list("product_id", flat=True)
    )


def paid_purchases_newest_first(user):
    """(product, its category, when bought) of each item of the shopper's paid orders, newest order first."""
    return (
        OrderItem.objects.filter(order__user=user, order__status__in=PAID_STATUSES, product__isnull=False)
        .order_by("-order__created_at", "-order_id")
        .values_list("product_id", "product__category_id", "order__created_at")
    )


def paid_order_lines(*, since=None):
    """(order, customer, placed at, product) of every item of paid orders, by order id."""
    rows = OrderItem.objects.filter(order__status__in=PAID_STATUSES, product__isnull=False)
    if since is not None:
        rows = rows.filter(order__created_at__gte=since)
    return rows.order_by("order_id").values_list("order_id", "order__user_id", "order__created_at", "product_id")


@dataclass(frozen=True)
class PaidItemsSource:
    """What set-based SQL over paid order items needs: the tables and the statuses that count as paid."""

    order_table: str
    item_table: str
    paid_statuses: tuple[str, ...]


def paid_items_source() -> PaidItemsSource:
    return PaidItemsSource(
        order_table=Order._meta.db_table,
        item_table=OrderItem._meta.db_table,
        paid_statuses=tuple(str(status) for status in PAID_STATUSES),
    )


def staff_dashboard(*, now=None) -> list[Figure]:
    """The orders figures of the admin index: the day's and week's sales, and what waits for staff.

    The sales are one index-only scan of the week's orders (``order_created_figures``
    carries status, total and cancel reason); what waits is counted on the
    status and unsettled-charge indexes, each count capped.
    """
    now = now or timezone.now()
    today, week = dashboard.day_start(now), dashboard.week_start(now)
    paid, placed_today = Q(status__in=PAID_STATUSES), Q(created_at__gte=today)
    sales = Order.objects.filter(created_at__gte=week).aggregate(
        week_orders=Count("created_at"),  # a column of the index: no row is read
        week_revenue=Sum("total", filter=paid),
        today_orders=Count("created_at", filter=placed_today),
        today_revenue=Sum("total", filter=paid & placed_today),
        failed=Count("created_at", filter=Q(cancel_reason=CancelReason.PAYMENT_FAILED)),
    )
    paid_statuses = ",".join(PAID_STATUSES)
    unordered = Order.objects.order_by()
    return [
        Figure("Orders today", f"{sales['today_orders']:,}", changelist(Order, created_at__gte=today)),
        Figure(
            f"Revenue today ({CURRENCY})",
            _money(sales["today_revenue"]),
            changelist(Order, created_at__gte=today, status__in=paid_statuses),
        ),
        Figure("Orders this week", f"{sales['week_orders']:,}", changelist(Order, created_at__gte=week)),
        Figure(
            f"Revenue this week ({CURRENCY})",
            _money(sales["week_revenue"]),
            changelist(Order, created_at__gte=week, status__in=paid_statuses),
        ),
        counted("Waiting to be packed", unordered.filter(status=Status.PAID), changelist(Order, status__exact=Status.PAID)),
        counted(
            "Waiting to be shipped", unordered.filter(status=Status.PACKED), changelist(Order, status__exact=Status.PACKED)
        ),
        Figure(
            "Failed payments this week",
            f"{sales['failed']:,}",
            changelist(Order, cancel_reason__exact=CancelReason.PAYMENT_FAILED, created_at__gte=week),
            attention=sales["failed"] > 0,
        ),
        counted(
            "Unconfirmed checkouts",
            unordered.filter(charge_state__in=UNSETTLED_CHARGE_STATES),
            changelist(Order, charge_state__in=",".join(UNSETTLED_CHARGE_STATES)),
        ),
    ]


def _money(amount: Decimal | None) -> str:
    return f"{amount or Decimal('0.00'):,.2f}"


def shipments(order) -> list:
    """The order's shipping steps (carrier and tracking number in the note), oldest first."""
    return list(order.events.filter(to_status=Status.SHIPPED))


def unsent_mail_counts() -> dict[str, int]:
    """How many order mails are still queued and how many gave up, read from the index of unsent rows."""
    unsent = (OutgoingMail.Status.QUEUED, OutgoingMail.Status.FAILED)
    counts = dict(OutgoingMail.objects.filter(status__in=unsent).values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in unsent}
