"""Every write to carts, each in one transaction.

Every operation follows one locking order, which is what keeps concurrent
carts, the expiry task and (next) checkout from deadlocking:

1. the cart row(s), by id;
2. the carts' reservation rows, which are then extended: activity on a cart
   keeps its stock held, and an expired row nobody released yet is renewed;
3. in one ordered ``catalog.stock.lock`` call, the inventory rows of every
   product the operation changes plus those of the cart's short lines, which
   it tries to fill again;
4. lines, reservation rows and, through ``catalog.stock``, ``reserved``.

Expiry holds inventory rows and takes reservation rows with SKIP LOCKED, so it
never waits on a cart that is being worked on. Whatever the order of events,
each inventory row's ``reserved`` equals the sum of its reservation rows.
"""
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog import stock as stock_api
from catalog.models import Product

from .models import Cart, CartLine, Reservation
from .selectors import forget_item_counts


class CartError(Exception):
    """A request the cart cannot carry out; the message is meant for the shopper."""


@dataclass(frozen=True)
class LineChange:
    """What a change did to one line, for the message the shopper sees."""

    title: str
    requested: int  # units asked to add, or the quantity asked for
    added: int  # units newly reserved by this change
    quantity: int  # the line's quantity afterwards; 0 when the line is gone
    limited: bool = False  # the per-line limit cut the request
    short: bool = False  # there was not enough stock for the request


@dataclass(frozen=True)
class MergeResult:
    cart_id: int | None
    reduced: list[LineChange] = field(default_factory=list)  # lines kept below the combined quantity


def quantity_error() -> str:
    return f"Quantity must be a whole number from 1 to {settings.CART_MAX_LINE_QUANTITY}."


def validate_quantity(quantity) -> int:
    # bool is an int subclass; True is not a quantity.
    if type(quantity) is not int or not 1 <= quantity <= settings.CART_MAX_LINE_QUANTITY:
        raise CartError(quantity_error())
    return quantity


def get_or_create_cart(*, user=None, cart_id=None) -> Cart:
    """The visitor's cart: the account's for a signed-in user, else the session's."""
    if user is not None:
        return Cart.objects.get_or_create(user=user)[0]
    if cart_id is not None and (cart := Cart.objects.filter(pk=cart_id, user=None).first()):
        return cart
    return Cart.objects.create()


def add_to_cart(cart_id, product_id, quantity, *, now=None) -> LineChange:
    """Add units of a product, reserving them; takes what stock allows up to the line limit."""
    quantity = validate_quantity(quantity)
    with transaction.atomic():
        title = Product.objects.filter(pk=product_id, is_active=True).values_list("title", flat=True).first()
        if title is None:
            raise CartError("This product is not available.")
        work = _Work.open([cart_id], now)
        work.lock_stock([product_id])
        line = work.line_for_product(cart_id, product_id)
        current = line.quantity if line else 0
        target = min(current + quantity, settings.CART_MAX_LINE_QUANTITY)
        holding = _held(line) if line else 0
        wanted = max(target - holding, 0)
        allocations = work.take(product_id, wanted)
        added = sum(allocation.quantity for allocation in allocations)
        if added:
            if line is None:
                line = CartLine.objects.create(cart_id=cart_id, product_id=product_id, quantity=added)
                line.rows = {}
            else:
                # A short line holds less than its quantity; the shopper's add
                # settles it at what is now held.
                line.quantity = holding + added
                line.save(update_fields=["quantity"])
            work.hold(line, allocations)
        return LineChange(
            title=title,
            requested=quantity,
            added=added,
            quantity=line.quantity if line else 0,
            limited=current + quantity > settings.CART_MAX_LINE_QUANTITY,
            short=added < wanted,
        )


def set_quantity(cart_id, line_id, quantity, *, now=None) -> LineChange:
    """Change a line to ``quantity``: releases exactly the surplus, or reserves what stock allows."""
    quantity = validate_quantity(quantity)
    with transaction.atomic():
        work = _Work.open([cart_id], now, missing_ok=True)
        line = work.line(line_id)
        work.lock_stock([line.product_id])
        holding = _held(line)
        added = 0
        if quantity < holding:
            work.release_from(line, holding - quantity)
        elif quantity > holding:
            if not line.product.is_active:
                raise CartError("This product is no longer available; you can only lower the quantity or remove it.")
            allocations = work.take(line.product_id, quantity - holding)
            added = sum(allocation.quantity for allocation in allocations)
            work.hold(line, allocations)
        line.quantity = _held(line)
        if line.quantity:
            line.save(update_fields=["quantity"])
        else:
            line.delete()
        return LineChange(
            title=line.product.title,
            requested=quantity,
            added=added,
            quantity=line.quantity,
            short=line.quantity < quantity,
        )


def remove_line(cart_id, line_id, *, now=None) -> None:
    with transaction.atomic():
        work = _Work.open([cart_id], now, missing_ok=True)
        line = work.line(line_id)
        work.lock_stock([line.product_id])
        work.release_from(line, _held(line))
        line.delete()


def empty_cart(cart_id, *, now=None) -> None:
    with transaction.atomic():
        work = _Work.open([cart_id], now)
        lines = list(work.lines.values())
        work.lock_stock([line.product_id for line in lines])
        for line in lines:
            work.release_from(line, _held(line))
        CartLine.objects.filter(pk__in=[line.pk for line in lines]).delete()


def refresh_cart(cart_id, *, now=None) -> None:
    """Cart activity without a change: extend its reservations and try to fill short lines."""
    with transaction.atomic():
        work = _Work.open([cart_id], now, missing_ok=True)
        if work.carts:
            work.lock_stock([])


def merge_carts(*, source_cart_id, user, now=None) -> MergeResult:
    """Fold a visitor's cart into the account's at log-in.

    Quantities add up within the per-line limit; the reservations move with
    their lines, so stock held before log-in stays held.
    """
    with transaction.atomic():
        source = Cart.objects.filter(pk=source_cart_id, user=None).first() if source_cart_id else None
        if source is None:
            return MergeResult(Cart.objects.filter(user=user).values_list("pk", flat=True).first())
        target = Cart.objects.get_or_create(user=user)[0]
        work = _Work.open([source.pk, target.pk], now, missing_ok=True)
        if source.pk not in work.carts:  # merged by a concurrent log-in
            return MergeResult(target.pk)
        moving = [line for line in work.lines.values() if line.cart_id == source.pk]
        work.lock_stock([line.product_id for line in moving])
        reduced = []
        for line in moving:
            kept = work.line_for_product(target.pk, line.product_id)
            asked = line.quantity + (kept.quantity if kept else 0)
            kept = work.move(line, target.pk, into=kept)
            wanted = min(asked, settings.CART_MAX_LINE_QUANTITY)
            if _held(kept) > wanted:
                work.release_from(kept, _held(kept) - wanted)
            kept.quantity = min(wanted, _held(kept))
            if kept.quantity:
                kept.save(update_fields=["quantity"])
            else:
                kept.delete()
            if kept.quantity < asked:
                reduced.append(
                    LineChange(
                        title=kept.product.title,
                        requested=asked,
                        added=0,
                        quantity=kept.quantity,
                        limited=asked > settings.CART_MAX_LINE_QUANTITY,
                        short=kept.quantity < wanted,
                    )
                )
        source.delete()
        return MergeResult(target.pk, reduced)


def release_expired_reservations(*, now=None, batch_size=None) -> int:
    """Free the stock of reservations that ran out; returns how many were released.

    Runs in batches, one transaction each, skipping stock rows and reservations
    that a cart is working on right now (that cart renews or releases them
    itself). Safe to run at any time and any number of times: a released
    reservation is deleted, so it cannot be released twice.
    """
    now = now or timezone.now()
    batch_size = batch_size or settings.CART_EXPIRY_BATCH_SIZE
    total = 0
    while True:
        with transaction.atomic():
            product_ids = set(
                Reservation.objects.filter(reserved_until__lte=now)
                .order_by("reserved_until")
                .values_list("product_id", flat=True)[:batch_size]
            )
            if not product_ids:
                return total
            stock = stock_api.lock(product_ids, skip_locked=True)
            released = _release_expired(stock, stock.product_ids(), now, limit=batch_size)
        if not released:  # all that is left is being worked on by carts
            return total
        total += released


def _release_expired(stock, product_ids, now, *, limit=None) -> int:
    """Release expired reservations of these products whose stock rows are locked."""
    expired = (
        Reservation.objects.select_for_update(skip_locked=True)
        .filter(product_id__in=product_ids, reserved_until__lte=now)
        .order_by("reserved_until", "pk")
    )
    if limit:
        expired = expired[:limit]
    releasable = [row for row in expired if (row.product_id, row.warehouse_id) in stock]
    by_product = {}
    for row in releasable:
        by_product.setdefault(row.product_id, []).append(stock_api.Allocation(row.warehouse_id, row.quantity))
    for product_id, allocations in by_product.items():
        stock_api.release(stock, product_id, allocations)
    Reservation.objects.filter(pk__in=[row.pk for row in releasable]).delete()
    return len(releasable)


def _held(line) -> int:
    """Units a line holds: the sum of its (locked, just extended) reservation rows."""
    return sum(row.quantity for row in line.rows.values())


class _Work:
    """The locked state of one cart operation: carts, lines with their reservation rows, stock."""

    def __init__(self, carts, lines, now):
        self.carts = carts
        self.lines = lines
        self.now = now
        self.stock = None

    @classmethod
    def open(cls, cart_ids, now, *, missing_ok=False):
        """Steps 1 and 2 of the locking order: lock the carts, lock and extend their reservations."""
        now = now or timezone.now()
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            # A cart's own transaction returns its locks without waiting for the
            # WAL flush, which would otherwise serialise every shopper of a hot
            # product behind the disk. A crash may lose the last fraction of a
            # second of cart changes, whole transactions at a time, so the stock
            # books still balance. Not done inside a caller's transaction
            # (checkout's sale must be durable).
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit TO OFF")
        carts = set(
            Cart.objects.select_for_update(no_key=True).filter(pk__in=cart_ids).order_by("pk").values_list("pk", flat=True)
        )
        if len(carts) < len(set(cart_ids)) and not missing_ok:
            raise CartError("Your cart has changed in another window. Please try again.")
        lines = {
            line.pk: line
            for line in CartLine.objects.filter(cart_id__in=list(carts))
            .select_related("product")
            .only("cart_id", "product_id", "quantity", "product__title", "product__is_active")
        }
        rows = list(Reservation.objects.select_for_update().filter(line_id__in=list(lines)).order_by("pk")) if lines else []
        until = now + timedelta(minutes=settings.CART_RESERVATION_MINUTES)
        if rows:
            Reservation.objects.filter(pk__in=[row.pk for row in rows]).update(reserved_until=until)
        for line in lines.values():
            line.rows = {}
        for row in rows:
            row.reserved_until = until
            lines[row.line_id].rows[row.warehouse_id] = row
        transaction.on_commit(lambda: forget_item_counts(list(carts)))
        return cls(carts, lines, now)

    def lock_stock(self, product_ids):
        """Step 3: lock the stock of these products and of short lines, then fill short lines."""
        short = [line for line in self.lines.values() if _held(line) < line.quantity and line.product.is_active]
        self.stock = stock_api.lock({*product_ids, *(line.product_id for line in short)})
        for line in short:
            self.hold(line, self.take(line.product_id, line.quantity - _held(line)))

    def line(self, line_id) -> CartLine:
        try:
            return self.lines[int(line_id)]
        except (KeyError, TypeError, ValueError):
            raise CartError("That item is no longer in your cart.") from None

    def line_for_product(self, cart_id, product_id) -> CartLine | None:
        return next(
            (line for line in self.lines.values() if line.cart_id == cart_id and line.product_id == product_id),
            None,
        )

    def take(self, product_id, quantity) -> list[stock_api.Allocation]:
        """Reserve up to ``quantity``; on a shortage, first free the product's expired reservations."""
        if quantity <= 0:
            return []
        allocations = stock_api.reserve(self.stock, product_id, quantity)
        taken = sum(allocation.quantity for allocation in allocations)
        if taken < quantity and _release_expired(self.stock, [product_id], self.now):
            allocations += stock_api.reserve(self.stock, product_id, quantity - taken)
        return allocations

    def hold(self, line, allocations) -> None:
        """Record reserved units on the line's reservation rows."""
        until = self.now + timedelta(minutes=settings.CART_RESERVATION_MINUTES)
        for allocation in allocations:
            row = line.rows.get(allocation.warehouse_id)
            if row is None:
                line.rows[allocation.warehouse_id] = Reservation.objects.create(
                    line=line,
                    product_id=line.product_id,
                    warehouse_id=allocation.warehouse_id,
                    quantity=allocation.quantity,
                    reserved_until=until,
                )
            else:
                row.quantity += allocation.quantity
                row.save(update_fields=["quantity"])

    def release_from(self, line, quantity) -> None:
        """Release exactly ``quantity`` of what the line holds, emptying small rows first."""
        allocations = []
        for row in sorted(line.rows.values(), key=lambda row: (row.quantity, row.warehouse_id)):
            if quantity == 0:
                break
            give = min(quantity, row.quantity)
            allocations.append(stock_api.Allocation(row.warehouse_id, give))
            quantity -= give
            row.quantity -= give
            if row.quantity:
                row.save(update_fields=["quantity"])
            else:
                row.delete()
                del line.rows[row.warehouse_id]
        stock_api.release(self.stock, line.product_id, allocations)

    def move(self, line, cart_id, *, into=None) -> CartLine:
        """Move a line, with its reservations, to another cart (into that cart's line for the product)."""
        if into is None:
            line.cart_id = cart_id
            line.save(update_fields=["cart"])
            return line
        for warehouse_id, row in line.rows.items():
            kept = into.rows.get(warehouse_id)
            if kept is None:
                row.line = into
                row.save(update_fields=["line"])
                into.rows[warehouse_id] = row
            else:
                kept.quantity += row.quantity
                kept.save(update_fields=["quantity"])
                row.delete()
        line.rows = {}
        del self.lines[line.pk]
        line.delete()
        return into
