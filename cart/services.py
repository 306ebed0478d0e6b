"""Every write to carts, each in one transaction.

Every operation follows one locking order, which is what keeps concurrent
carts, the expiry task and (next) checkout from deadlocking:

1. the cart row(s), by id, then (PostgreSQL) a transaction advisory lock per
   visitor client, which serialises the changes of all carts of one client
   address so their cap on held units holds;
2. the carts' reservation rows, which are then extended: a change to a cart
   keeps its stock held, and an expired row nobody released yet is renewed,
   except a visitor's: it is released in step 3 and taken again within the cap;
3. in one ordered ``catalog.stock.lock`` call, the inventory rows of every
   product the operation changes plus those of the cart's short lines, which
   it tries to fill again;
4. lines, reservation rows and, through ``catalog.stock``, ``reserved``.

Visitors' carts (no account) with a recorded client hold for
``CART_ANON_RESERVATION_MINUTES``, and together hold at most
``CART_MAX_HELD_UNITS_PER_CLIENT`` unexpired units per client: a script
cannot keep a product sold out for free. Accounts' carts hold for
``CART_RESERVATION_MINUTES``, uncapped.

Expiry holds inventory rows and takes reservation rows with SKIP LOCKED, so it
never waits on a cart that is being worked on. Whatever the order of events,
each inventory row's ``reserved`` equals the sum of its reservation rows.
"""
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from amazon_site.core.ids import is_id
from catalog import stock as stock_api

from .models import Cart, Reservation
from .selectors import forget_item_counts


CENTS = Decimal("0.01")


class CartError(Exception):
    """A request the cart cannot carry out; the message is meant for the shopper."""

    def __init__(self, message, lines=()):
        super().__init__(message)
        self.lines = list(lines)  # titles of the lines the shopper has to fix, if any


@dataclass(frozen=True)
class LineChange:
    """What a change did to one line, for the message the shopper sees."""

    title: str
    requested: int  # units asked to add, or the quantity asked for
    added: int  # units newly reserved by this change
    quantity: int  # the line's quantity afterwards; 0 when the line is gone
    limited: bool = False  # the per-line limit cut the request
    short: bool = False  # there was not enough stock for the request
    held_cap: bool = False  # the cap on units a visitor's carts hold together cut the request


@dataclass(frozen=True)
class MergeResult:
    cart_id: int | None
    reduced: list[LineChange] = field(default_factory=list)  # lines kept below the combined quantity


@contextmanager
def _cart_transaction():
    """A cart operation's own transaction, committed without waiting for the WAL flush.

    Waiting would serialise every shopper of a hot product behind the disk. A
    crash may lose the last fraction of a second of cart changes, whole
    transactions at a time, so the stock books still balance. Inside a
    caller's transaction the caller's durability holds; checkout's sale
    (``sell_cart``) always runs in checkout's own, durable, transaction.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            _sql("SET LOCAL synchronous_commit TO OFF")
        yield


def quantity_error() -> str:
    return f"Quantity must be a whole number from 1 to {settings.CART_MAX_LINE_QUANTITY}."


def validate_quantity(quantity) -> int:
    # bool is an int subclass; True is not a quantity.
    if type(quantity) is not int or not 1 <= quantity <= settings.CART_MAX_LINE_QUANTITY:
        raise CartError(quantity_error())
    return quantity


def get_or_create_cart(*, user=None, cart_id=None, client="") -> Cart:
    """The visitor's cart: the account's for a signed-in user, else the session's.

    A new visitor's cart records ``client`` (``cart.clients.client_key``), which
    caps what that client's carts hold together.
    """
    if user is not None:
        return Cart.objects.get_or_create(user=user)[0]
    if cart_id is not None and (cart := Cart.objects.filter(pk=cart_id, user=None).first()):
        return cart
    return Cart.objects.create(client=client)


def add_to_cart(cart_id, product_id, quantity, *, now=None) -> LineChange:
    """Add units of a product, reserving them; takes what stock allows up to the line limit."""
    quantity = validate_quantity(quantity)
    if type(product_id) is not int or not is_id(product_id):  # ints only: forms and the API convert
        raise CartError("This product is not available.")
    with _cart_transaction():
        found = _sql("SELECT title, price FROM catalog_product WHERE id = %s AND is_active", [product_id])
        if not found:
            raise CartError("This product is not available.")
        [(title, price)] = found
        price = _money(price)
        work = _Work.open([cart_id], now)
        work.lock_stock([product_id])
        line = work.line_for_product(cart_id, product_id)
        current = line.quantity if line else 0
        target = min(current + quantity, settings.CART_MAX_LINE_QUANTITY)
        holding = line.held if line else 0
        wanted = max(target - holding, 0)
        allocations = work.take(cart_id, product_id, wanted)
        added = sum(allocation.quantity for allocation in allocations)
        if added:
            if line is None:
                line = work.create_line(cart_id, product_id, title, price, added)
            else:
                # A short line holds less than its quantity; the shopper's add
                # settles it at what is now held.
                line.quantity = holding + added
                work.save_quantity(line)
            work.hold(line, allocations)
        return LineChange(
            title=title,
            requested=quantity,
            added=added,
            quantity=line.quantity if line else 0,
            limited=current + quantity > settings.CART_MAX_LINE_QUANTITY,
            short=added < wanted and not work.cut,
            held_cap=work.cut,
        )


def set_quantity(cart_id, line_id, quantity, *, now=None) -> LineChange:
    """Change a line to ``quantity``: releases exactly the surplus, or reserves what stock allows."""
    quantity = validate_quantity(quantity)
    with _cart_transaction():
        work = _Work.open([cart_id], now, missing_ok=True)
        line = work.line(line_id)
        work.lock_stock([line.product_id])
        holding = line.held
        added = 0
        if quantity < holding:
            work.release_from(line, holding - quantity)
        elif quantity > holding:
            if not line.is_active:
                raise CartError("This product is no longer available; you can only lower the quantity or remove it.")
            allocations = work.take(cart_id, line.product_id, quantity - holding)
            added = sum(allocation.quantity for allocation in allocations)
            work.hold(line, allocations)
        line.quantity = line.held
        work.save_quantity(line)
        return LineChange(
            title=line.title,
            requested=quantity,
            added=added,
            quantity=line.quantity,
            short=line.quantity < quantity and not work.cut,
            held_cap=work.cut,
        )


def remove_line(cart_id, line_id, *, now=None) -> None:
    with _cart_transaction():
        work = _Work.open([cart_id], now, missing_ok=True)
        line = work.line(line_id)
        work.lock_stock([line.product_id])
        work.release_from(line, line.held)
        work.delete_line(line)


def empty_cart(cart_id, *, now=None) -> None:
    with _cart_transaction():
        work = _Work.open([cart_id], now)
        lines = list(work.lines.values())
        work.lock_stock([line.product_id for line in lines])
        for line in lines:
            work.release_from(line, line.held)
            work.delete_line(line)


def refresh_cart(cart_id, *, now=None) -> None:
    """Cart activity without a change: extend its reservations and try to fill short lines."""
    with _cart_transaction():
        work = _Work.open([cart_id], now, missing_ok=True)
        if work.carts:
            work.lock_stock([])


def merge_carts(*, source_cart_id, user, now=None) -> MergeResult:
    """Fold a visitor's cart into the account's at log-in.

    Quantities add up within the per-line limit; the reservations move with
    their lines, so stock held before log-in stays held.
    """
    with _cart_transaction():
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
            if kept.held > wanted:
                work.release_from(kept, kept.held - wanted)
            kept.quantity = min(wanted, kept.held)
            work.save_quantity(kept)
            if kept.quantity < asked:
                reduced.append(
                    LineChange(
                        title=kept.title,
                        requested=asked,
                        added=0,
                        quantity=kept.quantity,
                        limited=asked > settings.CART_MAX_LINE_QUANTITY,
                        short=kept.quantity < wanted,
                    )
                )
        source.delete()
        return MergeResult(target.pk, reduced)


@dataclass(frozen=True)
class SoldLine:
    product_id: int
    title: str
    quantity: int
    price_when_added: Decimal | None  # None for lines from before prices were kept
    price: Decimal  # the product's price as the sale was made, read under the same locks
    allocations: list  # [catalog.stock.Allocation]: units sold per warehouse


def sell_cart(cart_id, *, now=None) -> list[SoldLine]:
    """Checkout's part of the cart: sell what every line holds and empty the cart.

    Runs inside checkout's transaction, which places the order with it. Lines
    whose reservation lapsed are filled again under the stock lock first; if a
    line is still short, or its product gone, nothing is sold and the
    ``CartError`` names the lines to fix.
    """
    if not connection.in_atomic_block:
        raise CartError("A cart can only be sold inside the checkout's transaction.")
    work = _Work.open([cart_id], now, missing_ok=True)
    lines = sorted(work.lines.values(), key=lambda line: line.id)
    if not lines:
        raise CartError("Your cart is empty.")
    work.lock_stock([line.product_id for line in lines])
    blocked = [line.title for line in lines if not line.is_active or line.held < line.quantity]
    if blocked:
        raise CartError(f"Not enough stock any more for: {', '.join(blocked)}. Please adjust your cart.", blocked)
    sold = []
    for line in lines:
        allocations = [stock_api.Allocation(row.warehouse_id, row.quantity) for row in line.rows.values()]
        stock_api.sell(work.stock, line.product_id, allocations)
        sold.append(SoldLine(line.product_id, line.title, line.quantity, line.unit_price, line.price, allocations))
    line_ids = [line.id for line in lines]
    # What the lines held is sold now, not released: the rows just go.
    _sql(f"DELETE FROM cart_reservation WHERE line_id IN ({_in(line_ids)})", line_ids)
    _sql(f"DELETE FROM cart_cartline WHERE id IN ({_in(line_ids)})", line_ids)
    work.lines = {}
    return sold


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
            released = release_expired(stock, stock.product_ids(), now, limit=batch_size)
        if not released:  # all that is left is being worked on by carts
            return total
        total += released


def delete_abandoned_carts(*, now=None, batch_size=1000) -> int:
    """Delete visitors' carts nobody can reach any more; returns how many.

    A cart without an account is found only through a session, and sessions
    end long before ``CART_ABANDONED_DAYS``. Only carts holding no reservation
    rows go (the expiry task released them long ago), so the stock books are
    untouched; each batch locks its carts first, like every cart operation,
    and re-checks them under the lock.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.CART_ABANDONED_DAYS)
    abandoned = (
        Cart.objects.filter(user=None, created_at__lt=cutoff)
        .exclude(lines__added_at__gte=cutoff)
        .exclude(lines__reservations__isnull=False)
    )
    total = 0
    while True:
        with transaction.atomic():
            ids = list(abandoned.order_by("pk").values_list("pk", flat=True)[:batch_size])
            if not ids:
                return total
            locked = list(Cart.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk", flat=True))
            still_abandoned = list(abandoned.filter(pk__in=locked).values_list("pk", flat=True))
            _, by_model = Cart.objects.filter(pk__in=still_abandoned).delete()
        deleted = by_model.get(Cart._meta.label, 0)
        if not deleted:
            return total
        total += deleted


def release_expired(stock, product_ids, now=None, *, limit=None) -> int:
    """Release expired reservations of these products whose stock rows are locked; returns how many.

    Also ``catalog.stock``'s releaser for a shortage (registered in apps.py).
    Reservation rows a cart is working on are skipped (SKIP LOCKED).
    """
    expired = (
        Reservation.objects.select_for_update(skip_locked=True)
        .filter(product_id__in=product_ids, reserved_until__lte=now or timezone.now())
        .order_by("reserved_until", "pk")
        .values_list("pk", "product_id", "warehouse_id", "quantity")
    )
    if limit:
        expired = expired[:limit]
    releasable = [row for row in expired if (row[1], row[2]) in stock]
    by_product = {}
    for _, product_id, warehouse_id, quantity in releasable:
        by_product.setdefault(product_id, []).append(stock_api.Allocation(warehouse_id, quantity))
    for product_id, allocations in by_product.items():
        stock_api.release(stock, product_id, allocations)
    Reservation.objects.filter(pk__in=[row[0] for row in releasable]).delete()
    return len(releasable)


@dataclass
class _Held:
    """A locked reservation row: units of a line held in one warehouse."""

    id: int
    warehouse_id: int
    quantity: int


@dataclass
class _Line:
    """A locked cart line with the reservation rows it holds, by warehouse."""

    id: int
    cart_id: int
    product_id: int
    quantity: int
    title: str
    is_active: bool
    unit_price: Decimal | None  # the price when the line was added
    price: Decimal  # the product's price now
    rows: dict = field(default_factory=dict)

    @property
    def held(self) -> int:
        """Units the line holds: the sum of its (locked, just extended) reservation rows."""
        return sum(row.quantity for row in self.rows.values())


def _in(values) -> str:
    return ", ".join(["%s"] * len(values))


def _money(value) -> Decimal | None:
    # SQLite hands back decimal columns as floats; the string round trip keeps the cents exact.
    return None if value is None else Decimal(str(value)).quantize(CENTS)


def _lock_client(client) -> None:
    """Serialise, until commit, the operations on carts of one client (PostgreSQL; SQLite has one writer)."""
    if connection.vendor == "postgresql":
        key = int.from_bytes(hashlib.blake2b(f"cart-client:{client}".encode(), digest_size=8).digest(), "big", signed=True)
        _sql("SELECT pg_advisory_xact_lock(%s)", [key])


def _sql(sql, params=()) -> list[tuple]:
    """Run one statement; returns its rows (those of RETURNING too)."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall() if cursor.description else []


class _Work:
    """The locked state of one cart operation: carts, lines with their reservation rows, stock.

    Its statements are written out in SQL rather than through the ORM: they
    run on every add to a cart, and building them was most of an add's cost.
    Only this class writes cart lines and reservation rows.
    """

    def __init__(self, carts, lines, now, *, clients=None, signed_in=True):
        self.carts = carts
        self.lines = lines
        self.now = now
        # Rows move between the carts of one operation (merge), so one duration:
        # an account's once an account's cart takes part.
        minutes = settings.CART_RESERVATION_MINUTES if signed_in else settings.CART_ANON_RESERVATION_MINUTES
        self.until = connection.ops.adapt_datetimefield_value(now + timedelta(minutes=minutes))
        self.clients = clients or {}  # visitor cart id -> client, for the carts under the cap
        self.room = {}  # client -> units its carts may still hold, counted once per operation
        self.lapsed = []  # (line, row): visitors' expired rows, released in lock_stock
        self.cut = False  # the cap cut a take
        self.stock = None

    @classmethod
    def open(cls, cart_ids, now, *, missing_ok=False):
        """Steps 1 and 2 of the locking order: lock the carts, lock and extend their reservations."""
        now = now or timezone.now()
        cart_ids = sorted(set(cart_ids))
        lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
        found = _sql(f"SELECT id, user_id, client FROM cart_cart WHERE id IN ({_in(cart_ids)}) ORDER BY id{lock}", cart_ids)
        carts = [cart_id for cart_id, _, _ in found]
        if len(carts) < len(cart_ids) and not missing_ok:
            raise CartError("Your cart has changed in another window. Please try again.")
        capped = settings.CART_MAX_HELD_UNITS_PER_CLIENT > 0
        clients = {cart_id: client for cart_id, user_id, client in found if user_id is None and client and capped}
        for client in sorted(set(clients.values())):
            _lock_client(client)
        signed_in = any(user_id is not None for _, user_id, _ in found) or not found
        work = cls(carts, {}, now, clients=clients, signed_in=signed_in)
        if carts:
            lines = _sql(
                "SELECT line.id, line.cart_id, line.product_id, line.quantity, product.title, product.is_active, "
                "line.unit_price, product.price "
                "FROM cart_cartline line JOIN catalog_product product ON product.id = line.product_id "
                f"WHERE line.cart_id IN ({_in(carts)})",
                carts,
            )
            work.lines = {
                values[0]: _Line(*values[:5], bool(values[5]), _money(values[6]), _money(values[7])) for values in lines
            }
        if work.lines:
            # The cart row lock makes this the only operation on these rows but
            # for expiry, which skips rows locked here. A visitor's expired row
            # keeps its time: renewing it would hold its units past the cap.
            now_value = connection.ops.adapt_datetimefield_value(now)
            kept = [line_id for line_id, line in work.lines.items() if line.cart_id in clients] or [0]
            extended = _sql(
                f"UPDATE cart_reservation SET reserved_until = CASE WHEN reserved_until <= %s "
                f"AND line_id IN ({_in(kept)}) THEN reserved_until ELSE %s END WHERE line_id IN ({_in(work.lines)}) "
                "RETURNING id, line_id, warehouse_id, quantity, reserved_until > %s",
                [now_value, *kept, work.until, *work.lines, now_value],
            )
            for row_id, line_id, warehouse_id, quantity, live in extended:
                line = work.lines[line_id]
                line.rows[warehouse_id] = _Held(row_id, warehouse_id, quantity)
                if not live:
                    work.lapsed.append((line, line.rows[warehouse_id]))
        forget_item_counts(carts)
        return work

    def lock_stock(self, product_ids):
        """Step 3: lock the stock of these products and of short lines, then fill short lines.

        A visitor's lapsed rows are released first, so what fills its lines
        again is taken within the client's cap.
        """
        lapsed_products = {line.product_id for line, _ in self.lapsed}
        short = [line for line in self.lines.values() if line.held < line.quantity and line.is_active]
        self.stock = stock_api.lock({*product_ids, *lapsed_products, *(line.product_id for line in short)})
        for line, row in self.lapsed:
            stock_api.release(self.stock, line.product_id, [stock_api.Allocation(row.warehouse_id, row.quantity)])
            row.quantity = 0
            self._save_row(row)
            del line.rows[row.warehouse_id]
        self.lapsed = []
        for line in self.lines.values():
            if line.held < line.quantity and line.is_active:
                self.hold(line, self.take(line.cart_id, line.product_id, line.quantity - line.held))

    def line(self, line_id) -> _Line:
        try:
            return self.lines[int(line_id)]
        except (KeyError, TypeError, ValueError):
            raise CartError("That item is no longer in your cart.") from None

    def line_for_product(self, cart_id, product_id) -> _Line | None:
        return next(
            (line for line in self.lines.values() if line.cart_id == cart_id and line.product_id == product_id),
            None,
        )

    def take(self, cart_id, product_id, quantity) -> list[stock_api.Allocation]:
        """Reserve up to ``quantity`` for a line of the cart, within its client's cap."""
        client = self.clients.get(cart_id)
        if client is not None:
            room = self._room(client)
            if quantity > room:
                quantity, self.cut = room, True
        if quantity <= 0:
            return []
        allocations = stock_api.reserve(self.stock, product_id, quantity, now=self.now)
        if client is not None:
            self.room[client] -= sum(allocation.quantity for allocation in allocations)
        return allocations

    def _room(self, client) -> int:
        """Units the client's carts may still hold: the cap less their unexpired rows.

        Counted once per operation, under the client's lock (step 1), after
        this cart's lapsed rows were released; takes then count it down.
        """
        if client not in self.room:
            [(held,)] = _sql(
                "SELECT COALESCE(SUM(reservation.quantity), 0) FROM cart_reservation reservation "
                "JOIN cart_cartline line ON line.id = reservation.line_id "
                "JOIN cart_cart cart ON cart.id = line.cart_id "
                "WHERE cart.client = %s AND cart.user_id IS NULL AND reservation.reserved_until > %s",
                [client, connection.ops.adapt_datetimefield_value(self.now)],
            )
            self.room[client] = max(settings.CART_MAX_HELD_UNITS_PER_CLIENT - int(held), 0)
        return self.room[client]

    def create_line(self, cart_id, product_id, title, price, quantity) -> _Line:
        [(line_id,)] = _sql(
            "INSERT INTO cart_cartline (cart_id, product_id, quantity, unit_price, added_at) "
            "VALUES (%s, %s, %s, %s, %s) RETURNING id",
            [cart_id, product_id, quantity, connection.ops.adapt_decimalfield_value(price, 10, 2),
             connection.ops.adapt_datetimefield_value(self.now)],
        )
        line = _Line(line_id, cart_id, product_id, quantity, title, True, price, price)
        self.lines[line.id] = line
        return line

    def save_quantity(self, line) -> None:
        """Store the line's quantity; a line left with nothing is deleted."""
        if line.quantity:
            _sql("UPDATE cart_cartline SET quantity = %s WHERE id = %s", [line.quantity, line.id])
        else:
            self.delete_line(line)

    def delete_line(self, line) -> None:
        """Delete a line that holds nothing any more (the foreign key enforces it)."""
        _sql("DELETE FROM cart_cartline WHERE id = %s", [line.id])
        del self.lines[line.id]

    def hold(self, line, allocations) -> None:
        """Record reserved units on the line's reservation rows."""
        for allocation in allocations:
            row = line.rows.get(allocation.warehouse_id)
            if row is None:
                [(row_id,)] = _sql(
                    "INSERT INTO cart_reservation (line_id, product_id, warehouse_id, quantity, reserved_until) "
                    "VALUES (%s, %s, %s, %s, %s) RETURNING id",
                    [line.id, line.product_id, allocation.warehouse_id, allocation.quantity, self.until],
                )
                line.rows[allocation.warehouse_id] = _Held(row_id, allocation.warehouse_id, allocation.quantity)
            else:
                row.quantity += allocation.quantity
                self._save_row(row)

    def release_from(self, line, quantity) -> None:
        """Release exactly ``quantity`` of what the line holds (``catalog.stock`` picks the rows)."""
        held = [stock_api.Allocation(row.warehouse_id, row.quantity) for row in line.rows.values()]
        for allocation in stock_api.release_from(self.stock, line.product_id, held, quantity):
            row = line.rows[allocation.warehouse_id]
            row.quantity -= allocation.quantity
            self._save_row(row)
            if not row.quantity:
                del line.rows[row.warehouse_id]

    def move(self, line, cart_id, *, into=None) -> _Line:
        """Move a line, with its reservations, to another cart (into that cart's line for the product)."""
        if into is None:
            _sql("UPDATE cart_cartline SET cart_id = %s WHERE id = %s", [cart_id, line.id])
            line.cart_id = cart_id
            return line
        for warehouse_id, row in line.rows.items():
            kept = into.rows.get(warehouse_id)
            if kept is None:
                _sql("UPDATE cart_reservation SET line_id = %s WHERE id = %s", [into.id, row.id])
                into.rows[warehouse_id] = row
            else:
                kept.quantity += row.quantity
                self._save_row(kept)
                _sql("DELETE FROM cart_reservation WHERE id = %s", [row.id])
        line.rows = {}
        self.delete_line(line)
        return into

    def _save_row(self, row) -> None:
        if row.quantity:
            _sql("UPDATE cart_reservation SET quantity = %s WHERE id = %s", [row.quantity, row.id])
        else:
            _sql("DELETE FROM cart_reservation WHERE id = %s", [row.id])
