"""Read paths of carts: the header's count and the cart page."""
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min, Sum
from django.utils import timezone

from amazon_site.core.cache import forget_on_commit
from catalog.models import Product
from catalog import stock

from .models import Cart, CartLine, Reservation

# The session holds the id of the visitor's cart. Only this app writes it, and
# log-in replaces it with the account's cart (see signals.py), so it can be
# trusted for the signed-in visitor too.
CART_SESSION_KEY = "cart_id"
ITEM_COUNT_CACHE_KEY = "cart:count:v1:{}"


def uses_session(request) -> bool:
    """Whether the visitor's cart is the session's: not for an API token, which names an account and keeps no session."""
    return getattr(request, "auth", None) is None and hasattr(request, "session")


def visitor_cart_id(request) -> int | None:
    """The cart the pages and the API show this visitor; None when there is none yet.

    The session's, else the signed-in account's. Every view, page or API, and
    the header find the cart here.
    """
    user = getattr(request, "user", None)
    if user is None:  # a request that never passed the authentication middleware
        return None
    session_cart_id = request.session.get(CART_SESSION_KEY) if uses_session(request) else None
    if session_cart_id is not None or not user.is_authenticated:
        return session_cart_id
    return Cart.objects.filter(user=user).values_list("pk", flat=True).first()


def cart_item_count(cart_id) -> int:
    """Units in the cart, for the header on every page; cached until the cart changes."""
    if cart_id is None:
        return 0
    key = ITEM_COUNT_CACHE_KEY.format(cart_id)
    count = cache.get(key)
    if count is None:
        count = CartLine.objects.filter(cart_id=cart_id).aggregate(n=Sum("quantity"))["n"] or 0
        cache.set(key, count, settings.CART_COUNT_CACHE_SECONDS)
    return count


def quantity_in_cart(cart_id, product_id) -> int:
    """Units of the product in the cart's line for it (the one-line-per-product index)."""
    if cart_id is None:
        return 0
    return CartLine.objects.filter(cart_id=cart_id, product_id=product_id).values_list("quantity", flat=True).first() or 0


def addable_quantity(cart_id, product_id, available: int, *, now=None) -> int:
    """How many more units of the product an add to this cart can take: what the product page offers.

    No more than the line limit leaves (the line's quantity counts against it,
    see ``services._add_units``), nor than are for sale. ``available`` counts
    lapsed holds as free, this cart's own among them, yet an add holds those
    again before it takes more: they are not there for this shopper to add.
    """
    quantity = quantity_in_cart(cart_id, product_id)
    own_lapsed = 0
    if quantity:
        own_lapsed = (
            Reservation.objects.filter(
                line__cart_id=cart_id, product_id=product_id, reserved_until__lte=now or timezone.now()
            ).aggregate(units=Sum("quantity"))["units"]
            or 0
        )
    return max(0, min(available - own_lapsed, settings.CART_MAX_LINE_QUANTITY - quantity))


def lapsed_units(product_ids, *, now=None) -> dict[int, int]:
    """Units of these products held by reservations that ran out but were not released yet.

    They are still in ``Inventory.reserved``, yet any add takes them (it frees
    lapsed holds on a shortage), so availability counts them as free
    (registered with ``catalog.stock`` in apps.py). One scan of the
    (product, expiry) index.
    """
    rows = (
        Reservation.objects.filter(product_id__in=product_ids, reserved_until__lte=now or timezone.now())
        .values("product_id")
        .annotate(units=Sum("quantity"))
        .values_list("product_id", "units")
    )
    return dict(rows)


def forget_item_counts(cart_ids) -> None:
    """Drop the header counts of these carts once the current transaction commits."""
    forget_on_commit(ITEM_COUNT_CACHE_KEY.format(cart_id) for cart_id in cart_ids)


@dataclass(frozen=True)
class CartLineView:
    line_id: int
    product: Product
    quantity: int
    reserved: int  # units held by unexpired reservations
    reserved_until: datetime | None
    unit_price: Decimal | None = None  # the price when the line was added
    free: int = 0  # units of the product free for anyone now (lapsed holds too); read only for lines not fully held

    @property
    def total(self) -> Decimal:
        return self.product.price * self.quantity

    @property
    def is_unavailable(self) -> bool:
        return not self.product.is_active

    @property
    def is_lapsed(self) -> bool:
        """The hold ran out (viewing does not renew it) but the free stock covers the line.

        The next change to the cart, or placing the order, holds it again
        under the stock lock; until then someone else may take it.
        """
        return self.reserved < self.quantity and not self.is_short

    @property
    def is_short(self) -> bool:
        """The reservation lapsed and the stock went to someone else: free stock cannot cover the line."""
        return self.reserved + max(self.free, 0) < self.quantity

    @property
    def blocks_checkout(self) -> bool:
        return self.is_short or self.is_unavailable


@dataclass(frozen=True)
class CartView:
    lines: list[CartLineView]

    @property
    def item_count(self) -> int:
        return sum(line.quantity for line in self.lines)

    @property
    def subtotal(self) -> Decimal:
        return sum((line.total for line in self.lines), Decimal("0.00"))

    @property
    def checkout_blocked(self) -> bool:
        """Checkout waits until the shopper has adjusted every flagged line."""
        return any(line.blocks_checkout for line in self.lines)


def cart_detail(cart_id, *, now=None) -> CartView:
    if cart_id is None:
        return CartView(lines=[])
    now = now or timezone.now()
    holdings = {
        row["line_id"]: row
        for row in Reservation.objects.filter(line__cart_id=cart_id, reserved_until__gt=now)
        .values("line_id")
        .annotate(reserved=Sum("quantity"), until=Min("reserved_until"))
    }
    # What a cart line shows of its product (its photo, or the drawn picture versioned by its last
    # change: catalog/_image.html); not the description, the widest column.
    lines = CartLine.objects.filter(cart_id=cart_id).select_related("product").only(
        "quantity", "unit_price", "product__title", "product__slug", "product__price", "product__is_active",
        "product__image", "product__updated_at",
    )
    lines = list(lines)
    # Judged as checkout's sale fills it (``services.sell_cart``): a line whose
    # hold ran out can be sold while the free stock covers it.
    not_held = [line.product_id for line in lines if holdings.get(line.pk, {}).get("reserved", 0) < line.quantity]
    free = stock.available(not_held, now=now) if not_held else {}
    return CartView(
        lines=[
            CartLineView(
                line_id=line.pk,
                product=line.product,
                quantity=line.quantity,
                reserved=holdings.get(line.pk, {}).get("reserved", 0),
                reserved_until=holdings.get(line.pk, {}).get("until"),
                unit_price=line.unit_price,
                free=free.get(line.product_id, 0),
            )
            for line in lines
        ]
    )


def held_warehouse_codes(cart_id) -> set[str]:
    """The warehouses holding the cart's units: each is a parcel of the order, for checkout's delivery estimate."""
    if cart_id is None:
        return set()
    return set(Reservation.objects.filter(line__cart_id=cart_id).values_list("warehouse__code", flat=True))
