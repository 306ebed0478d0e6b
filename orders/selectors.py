"""Read paths of orders: checkout's summary, a shopper's orders, their detail, and what was bought.

Apps above orders (recommendations) read orders through the functions near
the end, so the status rules stay in ``orders.models``. ``staff_dashboard`` is
the orders panel of the admin index.
"""
from collections import Counter
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db.models import Count, Prefetch, Q, Sum
from django.http import Http404
from django.utils import timezone

from amazon_site.core import dashboard
from amazon_site.core.dashboard import Figure, changelist, counted
from cart.selectors import cart_detail, held_warehouse_codes

from .delivery import estimated_delivery, tracking_url
from .models import (
    CURRENCY,
    LIVE_RETURN_STATUSES,
    NOT_BOUGHT_STATUSES,
    PAID_STATUSES,
    UNSETTLED_CHARGE_STATES,
    WAITING_RETURN_STATUSES,
    Address,
    CancelReason,
    Order,
    OrderItem,
    OutgoingMail,
    Return,
    ReturnLine,
    Shipment,
    ShipmentStatus,
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


def order_history(user):
    """The shopper's orders for "Your orders", each with its items and their products' pictures.

    Prefetched: a page of orders is three queries (count, orders, items with
    product and brand), however many orders and items it shows.
    """
    items = OrderItem.objects.select_related("product__brand").order_by("id")
    return orders_for_user(user).prefetch_related(Prefetch("items", queryset=items))


def order_page(order) -> dict:
    """What an order's page shows, and its mails too: the order, its items, parcels, returns, timeline and payments."""
    return {
        "order": order,
        "items": order.items.all(),
        "shipments": order_shipments(order),
        "returns": order_returns(order),
        "events": order.events.all(),
        "upcoming": upcoming_steps(order),
        "payments": order.payments.all(),
    }


# The statuses an order passes through on its way to the shopper; cancelled and returned ones leave the way.
ORDER_PROGRESS = (Status.PENDING, Status.PAID, Status.PACKED, Status.SHIPPED, Status.DELIVERED)


def upcoming_steps(order) -> list[str]:
    """The steps still ahead of the order (its timeline shows them greyed out): none once it is cancelled or returned."""
    if order.status not in ORDER_PROGRESS:
        return []
    return [status.label for status in ORDER_PROGRESS[ORDER_PROGRESS.index(order.status) + 1 :]]


def order_shipments(order) -> list[Shipment]:
    """The order's parcels, each with its lines, a ``label`` ("Parcel 1 of 2") and a ``tracking_url``."""
    shipments = list(order.shipments.select_related("warehouse").prefetch_related("lines__item"))
    live = [shipment for shipment in shipments if shipment.status != ShipmentStatus.CANCELLED]
    for position, shipment in enumerate(shipments, 1):
        shipment.label = f"Parcel {position} of {len(shipments)}" if len(shipments) > 1 else "Your parcel"
        shipment.tracking_url = tracking_url(shipment.carrier, shipment.tracking_number)
        shipment.is_live = shipment in live
    return shipments


def order_returns(order) -> list[Return]:
    return list(order.returns.prefetch_related("lines__item"))


def delivered_at(order):
    """When the order's last parcel was delivered (None: not delivered)."""
    event = order.events.filter(to_status=Status.DELIVERED).exclude(from_status=Status.DELIVERED).last()
    return event.created_at if event else None


def return_window_ends(order):
    """The last moment a return of the order may be asked for, or None if it cannot be (not delivered)."""
    if order.status != Status.DELIVERED or (delivered := delivered_at(order)) is None:
        return None
    return delivered + timedelta(days=settings.ORDER_RETURN_DAYS)


def returnable_units(order) -> dict[int, int]:
    """Units of each item (by id) the shopper still has and may send back: bought, not in a live return."""
    taken = Counter()
    for line in ReturnLine.objects.filter(ret__order=order, ret__status__in=LIVE_RETURN_STATUSES):
        taken[line.item_id] += line.quantity
    return {item.pk: item.quantity - taken[item.pk] for item in order.items.all() if item.quantity > taken[item.pk]}


@dataclass(frozen=True)
class ReturnChoice:
    item: OrderItem
    returnable: int  # units the shopper may still send back


def return_choices(order, *, now=None) -> tuple[list[ReturnChoice], object]:
    """What the shopper may send back now, and until when: ([], None) once that is nothing."""
    ends = return_window_ends(order)
    if ends is None or (now or timezone.now()) > ends:
        return [], None
    left = returnable_units(order)
    return [ReturnChoice(item, left[item.pk]) for item in order.items.all() if item.pk in left], ends


def delivery_estimates(cart_id, country: str, *, now=None) -> list:
    """The arrival day of each parcel the cart would make (by the warehouses holding its units), soonest first."""
    codes = held_warehouse_codes(cart_id)
    return sorted(estimated_delivery(code, country, now=now) for code in sorted(codes) or [None])


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


def received_by(user_ids, product_id) -> set[int]:
    """Which of these shoppers received the product: an order holding it was delivered (and kept or returned since).

    The reviews' "Verified purchase" badge: unlike ``has_received``, a return
    still counts, the reviewer had the product in hand.
    """
    return set(
        OrderItem.objects.filter(
            order__user_id__in=user_ids, order__status__in=(Status.DELIVERED, Status.RETURNED), product_id=product_id
        ).values_list("order__user_id", flat=True)
    )


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
        counted(
            "Returns waiting",
            Return.objects.order_by().filter(status__in=WAITING_RETURN_STATUSES),
            changelist(Return, status__in=",".join(WAITING_RETURN_STATUSES)),
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


def unsent_mail_counts() -> dict[str, int]:
    """How many order mails are still queued and how many gave up, read from the index of unsent rows."""
    unsent = (OutgoingMail.Status.QUEUED, OutgoingMail.Status.FAILED)
    counts = dict(OutgoingMail.objects.filter(status__in=unsent).values_list("status").annotate(n=Count("pk")).order_by())
    return {status: counts.get(status, 0) for status in unsent}
