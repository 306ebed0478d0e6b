"""Stock reservations: the one module that changes ``Inventory.reserved``.

Carts and checkout never write ``Inventory`` themselves; they lock the rows
they need here and ask for units to be reserved, released, sold or restocked.
Each change appends an ``inventory`` event to the outbox in the same
transaction, so an event exists exactly when the change committed.

Locking order, the rule that keeps concurrent carts from deadlocking: a
transaction locks all the inventory rows it will touch in ONE call to
``lock()``, which takes them with ``SELECT ... FOR UPDATE`` ordered by
(product id, warehouse id). Two transactions therefore always queue for shared
rows in the same order. Callers that also lock their own rows (a cart, its
reservation records) take those first and never wait on them again while
holding inventory rows.

Reserving and releasing only ever work on rows locked by the current
transaction, so writing the new absolute value is safe, and the database
constraints (``0 <= reserved <= quantity``) back the arithmetic up.
"""
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import F, Sum

from amazon_site.core import metrics
from amazon_site.core.cache import forget_on_commit
from amazon_site.events.services import record

from .models import Inventory

AVAILABLE_CACHE_KEY = "catalog:available:v1:{}"


class StockError(Exception):
    """A stock change that would break ``0 <= reserved <= quantity``."""


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
            raise StockError(f"Stock of product {product_id} at warehouse {warehouse_id} is not locked.") from None


# Hand-written SQL on the hot path: every add to a cart runs these, and the
# ORM's query building cost more than the database's work on them.
_LOCK_SQL = (
    f"SELECT id, product_id, warehouse_id, quantity, reserved FROM {Inventory._meta.db_table} "
    "WHERE product_id IN ({}) ORDER BY product_id, warehouse_id"
)
_SAVE_SQL = f"UPDATE {Inventory._meta.db_table} SET quantity = %s, reserved = %s WHERE id = %s"


def lock(product_ids, *, skip_locked=False) -> LockedStock:
    """Lock every inventory row of these products, in the global order.

    With ``skip_locked`` rows that another transaction holds are left out
    instead of waited for (background expiry uses it to stay out of the way).
    """
    if not connection.in_atomic_block:
        raise StockError("Stock can only be locked inside a transaction.")
    product_ids = sorted(set(product_ids))
    if not product_ids:
        return LockedStock([])
    sql = _LOCK_SQL.format(", ".join(["%s"] * len(product_ids)))
    if connection.features.has_select_for_update:  # SQLite serialises writers instead
        sql += " FOR UPDATE SKIP LOCKED" if skip_locked else " FOR UPDATE"
    with connection.cursor() as cursor:
        cursor.execute(sql, product_ids)
        return LockedStock(StockRow(*values) for values in cursor.fetchall())


def reserve(stock: LockedStock, product_id, quantity: int) -> list[Allocation]:
    """Reserve up to ``quantity`` units; returns what was taken, maybe less or nothing.

    Warehouses with the most available units are drawn from first, so a line
    is split over as few warehouses as possible.
    """
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
                f"{allocation.warehouse_id}: {row.reserved} are reserved."
            )
        yield row, allocation.quantity


def restock(stock: LockedStock, product_id, allocations) -> None:
    """Put sold units back on the shelf of the warehouses they came from (cancellations, returns)."""
    for allocation in allocations:
        row = stock.row(product_id, allocation.warehouse_id)
        if allocation.quantity <= 0:
            raise StockError(f"Cannot restock {allocation.quantity} units of product {product_id}.")
        row.quantity += allocation.quantity
        _save(row)
    _changed("restocked", product_id, allocations)


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


# Who counts the units of ``reserved`` whose holds ran out but that nobody
# released yet: the holds are cart reservations, and catalog cannot import
# cart, so cart registers its counter at start-up (cart/apps.py).
_lapsed_counter = None


def count_lapsed_with(counter) -> None:
    """Register ``counter(product_ids, now=None) -> {product_id: units}`` (lapsed holds still in ``reserved``)."""
    global _lapsed_counter
    _lapsed_counter = counter


def available(product_ids, *, now=None) -> dict[int, int]:
    """Units that can be sold now, by product, summed over all warehouses.

    A lapsed hold still counts in ``reserved`` until something releases it,
    yet the next add takes its units (``cart.services`` frees them on a
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

    Reservations here drop the entry when they commit; staff stock edits and
    holds running out show after at most ``STOCK_BADGE_CACHE_SECONDS``.
    """
    key = AVAILABLE_CACHE_KEY.format(product_id)
    units = cache.get(key)
    if units is None:
        units = available([product_id]).get(product_id, 0)
        cache.set(key, units, settings.STOCK_BADGE_CACHE_SECONDS)
    return units


def _forget_available(product_ids) -> None:
    forget_on_commit(AVAILABLE_CACHE_KEY.format(product_id) for product_id in product_ids)
