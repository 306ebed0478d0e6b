"""The unit of work of every cart write: what one operation locked, and the statements it runs.

``Work`` takes the cart's part of the lock order (steps 1 to 4 of the one in
``catalog/stock.py``'s docstring); every cart operation writes lines and
reservation rows through it (the jobs only delete lapsed and abandoned ones).
Its statements on the path of an add are written out in SQL rather than
through the ORM: building them was most of an add's cost. Tables are named
through their models.
"""
import hashlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from catalog import stock as stock_api
from catalog.models import Product

from .errors import CartError, CartErrorCode
from .models import Cart, CartLine, Reservation
from .selectors import forget_item_counts

CENTS = Decimal("0.01")
_CART = Cart._meta.db_table
_LINE = CartLine._meta.db_table
_RESERVATION = Reservation._meta.db_table
_PRODUCT = Product._meta.db_table


@contextmanager
def cart_transaction():
    """A cart operation's own transaction, committed without waiting for the WAL flush.

    Waiting would serialise every shopper of a hot product behind the disk. A
    crash may lose the last fraction of a second of cart changes, whole
    transactions at a time, so the stock books still balance. Inside a
    caller's transaction the caller's durability holds; checkout's sale
    (``services.sell_cart``) always runs in checkout's own, durable, transaction.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql" and len(connection.atomic_blocks) == 1:
            _sql("SET LOCAL synchronous_commit TO OFF")
        yield


def product_for_sale(product_id) -> tuple[str, Decimal | None] | None:
    """The title and price of an active product, or None (the first statement of every add)."""
    found = _sql(f"SELECT title, price FROM {_PRODUCT} WHERE id = %s AND is_active", [product_id])
    if not found:
        return None
    [(title, price)] = found
    return title, _money(price)


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


class Work:
    """The locked state of one cart operation: carts, lines with their reservation rows, stock."""

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
        """Steps 1 to 3 of the lock order: lock the carts, the visitors' clients, lock and extend the reservations."""
        now = now or timezone.now()
        cart_ids = sorted(set(cart_ids))
        lock = " FOR NO KEY UPDATE" if connection.features.has_select_for_no_key_update else ""
        found = _sql(f"SELECT id, user_id, client FROM {_CART} WHERE id IN ({_in(cart_ids)}) ORDER BY id{lock}", cart_ids)
        carts = [cart_id for cart_id, _, _ in found]
        if len(carts) < len(cart_ids) and not missing_ok:
            raise CartError("Your cart has changed in another window. Please try again.", CartErrorCode.CART_CHANGED)
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
                f"FROM {_LINE} line JOIN {_PRODUCT} product ON product.id = line.product_id "
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
                f"UPDATE {_RESERVATION} SET reserved_until = CASE WHEN reserved_until <= %s "
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
        """Step 4: lock the stock of these products and of short lines, then fill short lines.

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
            raise CartError("That item is no longer in your cart.", CartErrorCode.LINE_NOT_FOUND) from None

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

        Counted once per operation, under the client's lock (step 2), after
        this cart's lapsed rows were released; takes then count it down.
        """
        if client not in self.room:
            [(held,)] = _sql(
                f"SELECT COALESCE(SUM(reservation.quantity), 0) FROM {_RESERVATION} reservation "
                f"JOIN {_LINE} line ON line.id = reservation.line_id "
                f"JOIN {_CART} cart ON cart.id = line.cart_id "
                "WHERE cart.client = %s AND cart.user_id IS NULL AND reservation.reserved_until > %s",
                [client, connection.ops.adapt_datetimefield_value(self.now)],
            )
            self.room[client] = max(settings.CART_MAX_HELD_UNITS_PER_CLIENT - int(held), 0)
        return self.room[client]

    def create_line(self, cart_id, product_id, title, price, quantity) -> _Line:
        [(line_id,)] = _sql(
            f"INSERT INTO {_LINE} (cart_id, product_id, quantity, unit_price, added_at) "
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
            _sql(f"UPDATE {_LINE} SET quantity = %s WHERE id = %s", [line.quantity, line.id])
        else:
            self.delete_line(line)

    def delete_line(self, line) -> None:
        """Delete a line that holds nothing any more (the foreign key enforces it)."""
        _sql(f"DELETE FROM {_LINE} WHERE id = %s", [line.id])
        del self.lines[line.id]

    def drop_sold(self) -> None:
        """Delete every line with its reservation rows: what they held is sold, not released.

        Two statements on checkout's hot path: the ORM's cascade first reads
        every line and reservation back, two more round trips per checkout
        (``bench/checkout.py``), inside the transaction holding the stock locks.
        """
        ids = list(self.lines)
        _sql(f"DELETE FROM {_RESERVATION} WHERE line_id IN ({_in(ids)})", ids)
        _sql(f"DELETE FROM {_LINE} WHERE id IN ({_in(ids)})", ids)
        self.lines = {}

    def hold(self, line, allocations) -> None:
        """Record reserved units on the line's reservation rows."""
        for allocation in allocations:
            row = line.rows.get(allocation.warehouse_id)
            if row is None:
                [(row_id,)] = _sql(
                    f"INSERT INTO {_RESERVATION} (line_id, product_id, warehouse_id, quantity, reserved_until) "
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
        """Move a line, with its reservations, to another cart (into that cart's line for the product).

        Only log-in merges carts: not a hot path, so the ORM writes it.
        """
        if into is None:
            CartLine.objects.filter(pk=line.id).update(cart_id=cart_id)
            line.cart_id = cart_id
            return line
        for warehouse_id, row in line.rows.items():
            kept = into.rows.get(warehouse_id)
            if kept is None:
                Reservation.objects.filter(pk=row.id).update(line_id=into.id)
                into.rows[warehouse_id] = row
            else:
                kept.quantity += row.quantity
                self._save_row(kept)
                Reservation.objects.filter(pk=row.id).delete()
        line.rows = {}
        self.delete_line(line)
        return into

    def _save_row(self, row) -> None:
        if row.quantity:
            _sql(f"UPDATE {_RESERVATION} SET quantity = %s WHERE id = %s", [row.quantity, row.id])
        else:
            _sql(f"DELETE FROM {_RESERVATION} WHERE id = %s", [row.id])
