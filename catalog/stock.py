"""Stock: the one module that changes ``Inventory``, and the lock order.

Carts, checkout, cancellations and staff never write ``Inventory``
themselves; they lock the rows they need here and ask for units to be
reserved, released, sold or restocked, or (staff) for a row to be added,
set or removed. Each change appends an ``inventory`` event to the outbox in
the same transaction, so an event exists exactly when the change committed,
and drops the cached availability of the product once it commits.

The lock order, the one rule that keeps carts, checkout, cancellations, the
expiry job and staff edits from deadlocking. A transaction takes its locks in
this order and never waits for an earlier kind while it holds a later one:

1. the cart rows, by id (``cart``'s unit of work; checkout's sale too), or the
   order row (a cancellation or return restocks);
2. on PostgreSQL, a transaction advisory lock per visitor client, in client
   order, for visitors' carts under the held-units cap;
3. those carts' reservation rows, by the statement that extends them;
4. inventory rows: all the rows the transaction will touch, in ONE call to
   ``lock()``, which takes them with ``SELECT ... FOR UPDATE`` ordered by
   (product id, warehouse id), so two transactions queue for shared rows in
   the same order;
5. product rows, which the ``in_stock`` triggers update when a stock change
   flips them: a staff save of a product therefore locks the product's stock
   rows first (``catalog/admin.py``).

Locks taken against this order never wait: the expiry job, and the shortage
rule below, take other carts' expired reservation rows (and the job its
inventory rows) with ``SKIP LOCKED``, leaving whatever a cart is working on.

Reserving and releasing only ever work on rows locked by the current
transaction, so writing the new absolute value is safe, and the database
constraints (``0 <= reserved <= quantity``) back the arithmetic up.
"""
from collections import defaultdict
from dataclasses import dataclass
from enum import StrEnum

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import F, Sum

from amazon_site.core import metrics
from amazon_site.core.cache import forget_on_commit
from amazon_site.core.bulk import temporary_table
from amazon_site.events.services import record, record_many

from .models import Inventory

AVAILABLE_CACHE_KEY = "catalog:available:v1:{}"
NEGATIVE_STOCK = "Stock cannot be negative."


class StockErrorCode(StrEnum):
    NOT_IN_TRANSACTION = "not_in_transaction"
    NOT_LOCKED = "not_locked"
    NOT_RESERVED = "not_reserved"  # releasing or selling more than is reserved
    INVALID_QUANTITY = "invalid_quantity"
    NEGATIVE = "negative"
    BELOW_RESERVED = "below_reserved"
    ROW_RESERVED = "row_reserved"  # removing a stock row that carts hold units of


class StockError(Exception):
    """A stock change that would break ``0 <= reserved <= quantity``, or one made outside the rules above."""

    def __init__(self, message, code: StockErrorCode):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Allocation:
    """Units of one product held in (or taken from) one warehouse."""

    warehouse_id: int
    quantity: int


@dataclass
class StockRow:
    """One locked inventory row, as this transaction sees it."""

    id: int
    product_id: int
    warehouse_id: int
    quantity: int
    reserved: int

    @property
    def available(self) -> int:
        return self.quantity - self.reserved


class LockedStock:
    """The inventory rows locked by the current transaction, by product."""

    def __init__(self, rows):
        self._rows = defaultdict(dict)
        for row in rows:
            self._rows[row.product_id][row.warehouse_id] = row

    def __contains__(self, product_and_warehouse):
        product_id, warehouse_id = product_and_warehouse
        return warehouse_id in self._rows.get(product_id, {})

    def product_ids(self):
        return set(self._rows)

    def rows(self, product_id) -> list[StockRow]:
        return list(self._rows.get(product_id, {}).values())

    def row(self, product_id, warehouse_id) -> StockRow:
        try:
            return self._rows[product_id][warehouse_id]
        except KeyError:
            raise StockError(
                f"Stock of product {product_id} at warehouse {warehouse_id} is not locked.", StockErrorCode.NOT_LOCKED
            ) from None


# Hand-written SQL on the hot path: every add to a cart runs these, and the
# ORM's query building cost more than the database's work on them.
_LOCK_SQL = (
    f"SELECT id, product_id, warehouse_id, quantity, reserved FROM {Inventory._meta.db_table} "
    "WHERE product_id IN ({}) ORDER BY product_id, warehouse_id"
)
_SAVE_SQL = f"UPDATE {Inventory._meta.db_table} SET quantity = %s, reserved = %s WHERE id = %s"


def lock(product_ids, *, skip_locked=False) -> LockedStock:
    """Lock every inventory row of these products, in the global order (step 4 above).

    With ``skip_locked`` rows that another transaction holds are left out
    instead of waited for (background expiry uses it to stay out of the way).
    """
    if not connection.in_atomic_block:
        raise StockError("Stock can only be locked inside a transaction.", StockErrorCode.NOT_IN_TRANSACTION)
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return LockedStock([])
    sql = _LOCK_SQL.format(", ".join(["%s"] * len(product_ids)))
    if connection.features.has_select_for_update:  # SQLite serialises writers instead
        sql += " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, product_ids)
        return LockedStock(StockRow(*values) for values in cursor.fetchall())


def reserve(stock: LockedStock, product_id, quantity: int, *, now=None) -> list[Allocation]:
    """Reserve up to ``quantity`` units; returns what was taken, maybe less or nothing.

    Warehouses with the most available units are drawn from first, so a line
    is split over as few warehouses as possible. On a shortage, holds of the
    product that ran out (as of ``now``) are freed first and what they gave
    back is drawn on too: selling free stock never waits for the beat task.
    """
    allocations = _draw(stock, product_id, quantity)
    short = quantity - sum(allocation.quantity for allocation in allocations)
    if short > 0 and _lapsed_releaser is not None and _lapsed_releaser(stock, [product_id], now=now):
        allocations += _draw(stock, product_id, short)
    return allocations


def _draw(stock, product_id, quantity) -> list[Allocation]:
    rows = sorted(stock.rows(product_id), key=lambda row: (-row.available, row.warehouse_id))
    allocations, wanted = [], quantity
    for row in rows:
        take = min(wanted, row.available)
        if take <= 0:
            break
        row.reserved += take
        _save(row)
        allocations.append(Allocation(row.warehouse_id, take))
        wanted -= take
    _changed("reserved", product_id, allocations)
    return allocations


def release(stock: LockedStock, product_id, allocations) -> None:
    """Give reserved units back; the caller says exactly what it holds where."""
    for row, units in _reserved_rows(stock, product_id, allocations, "release"):
        row.reserved -= units
        _save(row)
    _changed("released", product_id, allocations)


def release_from(stock: LockedStock, product_id, held, quantity: int) -> list[Allocation]:
    """Release ``quantity`` of the units ``held`` (allocations of one holder); returns what went where.

    The smallest holdings are emptied first, so what stays held spans as few
    warehouses, and so as few holding rows, as possible.
    """
    allocations = []
    for holding in sorted(held, key=lambda holding: (holding.quantity, holding.warehouse_id)):
        if quantity <= 0:
            break
        give = min(quantity, holding.quantity)
        allocations.append(Allocation(holding.warehouse_id, give))
        quantity -= give
    release(stock, product_id, allocations)
    return allocations


def sell(stock: LockedStock, product_id, allocations) -> None:
    """Turn reserved units into a sale: they leave both the shelf and the reservation."""
    for row, units in _reserved_rows(stock, product_id, allocations, "sell"):
        row.quantity -= units
        row.reserved -= units
        _save(row)
    _changed("sold", product_id, allocations)


def _reserved_rows(stock, product_id, allocations, verb):
    """The locked rows the allocations draw on, each checked to hold that many reserved units."""
    for allocation in allocations:
        row = stock.row(product_id, allocation.warehouse_id)
        if not 0 < allocation.quantity <= row.reserved:
            raise StockError(
                f"Cannot {verb} {allocation.quantity} of product {product_id} at warehouse "
                f"{allocation.warehouse_id}: {row.reserved} are reserved.",
                StockErrorCode.NOT_RESERVED,
            )
        yield row, allocation.quantity


def restock(stock: LockedStock, product_id, allocations) -> None:
    """Put sold units back on the shelf of the warehouses they came from (cancellations, returns)."""
    for allocation in allocations:
        row = stock.row(product_id, allocation.warehouse_id)
        if allocation.quantity <= 0:
            raise StockError(
                f"Cannot restock {allocation.quantity} units of product {product_id}.", StockErrorCode.INVALID_QUANTITY
            )
        row.quantity += allocation.quantity
        _save(row)
    _changed("restocked", product_id, allocations)


# --- staff edits: they change only ``quantity``, under the same locks as carts,
# so a reservation made meanwhile is never overwritten by a value read earlier.


@transaction.atomic
def add_row(product_id, warehouse_id, quantity: int) -> Inventory:
    """Stock of a product in a warehouse that held none of it before."""
    if quantity < 0:
        raise StockError(NEGATIVE_STOCK, StockErrorCode.NEGATIVE)
    row = Inventory.objects.create(product_id=product_id, warehouse_id=warehouse_id, quantity=quantity)
    _adjusted(row, 0)
    return row


@transaction.atomic
def set_quantity(inventory_id, quantity: int) -> Inventory:
    """Staff set the units on the shelf; never below what carts reserved."""
    if quantity < 0:
        raise StockError(NEGATIVE_STOCK, StockErrorCode.NEGATIVE)
    row = Inventory.objects.get(pk=inventory_id)
    locked = lock([row.product_id]).row(row.product_id, row.warehouse_id)
    check_quantity(row, quantity, reserved=locked.reserved)
    previous, locked.quantity = locked.quantity, quantity
    _save(locked)
    row.quantity, row.reserved = locked.quantity, locked.reserved
    _adjusted(row, previous)
    return row


@transaction.atomic
def delete_row(inventory_id) -> None:
    """Staff remove a stock row; only one that holds no reserved units."""
    row = Inventory.objects.get(pk=inventory_id)
    locked = lock([row.product_id]).row(row.product_id, row.warehouse_id)
    check_deletion(row, reserved=locked.reserved)
    row.delete()
    row.quantity, previous = 0, locked.quantity
    _adjusted(row, previous)


@dataclass(frozen=True)
class Refusal:
    """A shelf count that went below what carts hold (``set_quantities``)."""

    warehouse_id: int
    quantity: int
    reserved: int


@dataclass
class QuantitiesSet:
    refused: dict  # key -> Refusal
    changed: set  # product ids whose stock changed


def set_quantities(entries) -> QuantitiesSet:
    """Staff's ``set_quantity`` in bulk (a stock feed): ``entries`` are (key, product_id, warehouse_id, units).

    Rows a product lacks are added. The products' rows are locked in one
    ``lock()`` call, so the rule above holds; a key with any entry below what
    carts reserved is refused whole (none of its entries is written) and
    returned with why (with the products whose stock changed). Each change is a ``stock.adjusted`` event, as a staff
    edit is. Two statements write every row (``UPDATE ... FROM``,
    ``INSERT ... SELECT``); the ``in_stock`` triggers follow as for any write.
    """
    entries = list(entries)
    if not connection.in_atomic_block:
        raise StockError("Stock can only be set inside a transaction.", StockErrorCode.NOT_IN_TRANSACTION)
    locked = lock({product_id for _, product_id, _, _ in entries})
    refused = {}
    for key, product_id, warehouse_id, units in entries:
        if units < 0:
            raise StockError(NEGATIVE_STOCK, StockErrorCode.NEGATIVE)
        if (product_id, warehouse_id) in locked:
            row = locked.row(product_id, warehouse_id)
            if units < row.reserved:
                refused.setdefault(key, Refusal(warehouse_id, units, row.reserved))
    changes = []
    for key, product_id, warehouse_id, units in entries:
        if key in refused:
            continue
        known = (product_id, warehouse_id) in locked
        previous = locked.row(product_id, warehouse_id).quantity if known else 0
        if not known or previous != units:
            changes.append((product_id, warehouse_id, units, known, previous))
    if not changes:
        return QuantitiesSet(refused, set())
    table = Inventory._meta.db_table
    temporary_table(
        "stock_changes",
        [("product_id", "bigint"), ("warehouse_id", "bigint"), ("quantity", "integer"), ("known", "boolean"),
         ("previous", "integer")],
        changes,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET quantity = c.quantity FROM stock_changes c "
            f"WHERE c.known AND {table}.product_id = c.product_id AND {table}.warehouse_id = c.warehouse_id"
        )
        cursor.execute(
            f"INSERT INTO {table} (product_id, warehouse_id, quantity, reserved) "
            "SELECT product_id, warehouse_id, quantity, 0 FROM stock_changes WHERE NOT known"
        )
    record_many(
        "inventory",
        (
            (product_id, {"type": "stock.adjusted", "product_id": product_id, "warehouse_id": warehouse_id,
                          "quantity": units, "previous_quantity": previous})
            for product_id, warehouse_id, units, _, previous in changes
        ),
    )
    changed = {product_id for product_id, *_ in changes}
    _forget_available(changed)
    return QuantitiesSet(refused, changed)


def add_first_stock(entries) -> None:
    """New products' stock, (product_id, warehouse_id, units) each, in one statement (a catalog import).

    No lock: nobody else can hold rows of products this transaction made.
    No event: the stock arrives with the product, as the product's own data.
    The caller wrote the products with ``in_stock`` already right (any units
    above zero), so on PostgreSQL the ``in_stock`` trigger stands aside for this
    statement (migration catalog 0012): over a million products it cost more
    than the insert.
    """
    rows = [(product_id, warehouse_id, units) for product_id, warehouse_id, units in entries]
    if any(units < 0 for _, _, units in rows):
        raise StockError(NEGATIVE_STOCK, StockErrorCode.NEGATIVE)
    if not rows:
        return
    temporary_table(
        "first_stock", [("product_id", "bigint"), ("warehouse_id", "bigint"), ("quantity", "integer")], rows, analyze=False
    )
    postgres = connection.vendor == "postgresql"
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SET LOCAL catalog.in_stock_known = 'on'")
        cursor.execute(
            f"INSERT INTO {Inventory._meta.db_table} (product_id, warehouse_id, quantity, reserved) "
            "SELECT product_id, warehouse_id, quantity, 0 FROM first_stock"
        )
        if postgres:
            cursor.execute("SET LOCAL catalog.in_stock_known = 'off'")


def check_quantity(row: Inventory, quantity: int, *, reserved=None) -> None:
    """Raise the ``StockError`` that setting ``row`` to ``quantity`` would meet.

    Forms call it to show the refusal before saving (``reserved`` as last
    read); ``set_quantity`` calls it again under the lock.
    """
    reserved = row.reserved if reserved is None else reserved
    if quantity < 0:  # its own message: "below what carts reserved" would mislead
        raise StockError(NEGATIVE_STOCK, StockErrorCode.NEGATIVE)
    if quantity < reserved:
        raise StockError(
            f"{row.product} at {row.warehouse.code}: cannot set stock to {quantity}, "
            f"{reserved} units are reserved in carts.",
            StockErrorCode.BELOW_RESERVED,
        )


def check_deletion(row: Inventory, *, reserved=None) -> None:
    """Raise the ``StockError`` that removing ``row`` would meet (see ``check_quantity``)."""
    reserved = row.reserved if reserved is None else reserved
    if reserved:
        raise StockError(
            f"{row.product} at {row.warehouse.code}: cannot remove a stock row "
            f"while {reserved} units are reserved in carts.",
            StockErrorCode.ROW_RESERVED,
        )


def _adjusted(row, previous) -> None:
    """A staff edit of stock, on the inventory event stream that carts and checkout write too."""
    if row.quantity != previous:
        record(
            "inventory",
            row.product_id,
            {
                "type": "stock.adjusted",
                "product_id": row.product_id,
                "warehouse_id": row.warehouse_id,
                "quantity": row.quantity,
                "previous_quantity": previous,
            },
        )
        _forget_available([row.product_id])


def _save(row: StockRow) -> None:
    with connection.cursor() as cursor:
        cursor.execute(_SAVE_SQL, [row.quantity, row.reserved, row.id])


def _changed(change, product_id, allocations) -> None:
    if not allocations:
        return
    record(
        "inventory",
        product_id,
        {
            "type": f"stock.{change}",
            "product_id": product_id,
            "warehouses": [{"warehouse_id": a.warehouse_id, "quantity": a.quantity} for a in allocations],
        },
    )
    _forget_available([product_id])
    metrics.stock_changed(change, allocations)


# The holds behind ``reserved`` are cart reservations, and catalog cannot
# import cart: cart registers, at start-up (cart/apps.py), who counts the
# units of holds that ran out but nobody released yet, and who releases them.
_lapsed_counter = None
_lapsed_releaser = None


def count_lapsed_with(counter) -> None:
    """Register ``counter(product_ids, now=None) -> {product_id: units}`` (lapsed holds still in ``reserved``)."""
    global _lapsed_counter
    _lapsed_counter = counter


def release_lapsed_with(releaser) -> None:
    """Register ``releaser(stock, product_ids, now=None) -> int``: frees lapsed holds of locked products, says how many."""
    global _lapsed_releaser
    _lapsed_releaser = releaser


def available(product_ids, *, now=None) -> dict[int, int]:
    """Units that can be sold now, by product, summed over all warehouses.

    A lapsed hold still counts in ``reserved`` until something releases it,
    yet the next reservation takes its units (``reserve`` frees them on a
    shortage), so they count as available: without the beat task nothing
    else would ever show them for sale again. Products without stock rows
    are left out.
    """
    rows = (
        Inventory.objects.filter(product_id__in=product_ids)
        .values("product_id")
        .annotate(available=Sum(F("quantity") - F("reserved")))
        .values_list("product_id", "available")
    )
    units = dict(rows)
    if units and _lapsed_counter is not None:
        for product_id, lapsed in _lapsed_counter(list(units), now=now).items():
            units[product_id] += lapsed
    return units


def cached_available(product_id) -> int:
    """Units still for sale over all warehouses, cached briefly for the product page.

    Every change here drops the entry when it commits; holds running out
    show after at most ``STOCK_BADGE_CACHE_SECONDS``.
    """
    key = AVAILABLE_CACHE_KEY.format(product_id)
    units = cache.get(key)
    if units is None:
        units = available([product_id]).get(product_id, 0)
        cache.set(key, units, settings.STOCK_BADGE_CACHE_SECONDS)
    return units


def _forget_available(product_ids) -> None:
    forget_on_commit(AVAILABLE_CACHE_KEY.format(product_id) for product_id in product_ids)
