"""Write paths of the catalog that staff and commands use.

Stock rows are also written by carts and checkout; staff edits therefore lock
the row and change only ``quantity``, never a ``reserved`` value read earlier.
"""
from django.db import transaction
from django.utils import timezone

from amazon_site.events.services import record

from .models import Inventory, Product
from .stock import StockError


@transaction.atomic
def set_products_active(product_ids, *, active: bool) -> int:
    """Show or hide products in the store; returns how many changed."""
    changed = Product.objects.filter(pk__in=product_ids).exclude(is_active=active)
    return changed.update(is_active=active, updated_at=timezone.now())


NEGATIVE_STOCK = "Stock cannot be negative."


@transaction.atomic
def add_stock_row(product_id, warehouse_id, quantity: int) -> Inventory:
    """Stock of a product in a warehouse that held none of it before."""
    if quantity < 0:
        raise StockError(NEGATIVE_STOCK)
    row = Inventory.objects.create(product_id=product_id, warehouse_id=warehouse_id, quantity=quantity)
    _adjusted(row, 0)
    return row


@transaction.atomic
def set_stock_quantity(inventory_id, quantity: int) -> Inventory:
    if quantity < 0:  # its own message: "below what carts reserved" would mislead
        raise StockError(NEGATIVE_STOCK)
    row = Inventory.objects.select_for_update().get(pk=inventory_id)
    if quantity < row.reserved:
        raise StockError(
            f"{row.product} at {row.warehouse.code}: cannot set stock to {quantity}, "
            f"{row.reserved} units are reserved in carts."
        )
    previous, row.quantity = row.quantity, quantity
    row.save(update_fields=["quantity"])
    _adjusted(row, previous)
    return row


@transaction.atomic
def delete_stock_row(inventory_id) -> None:
    row = Inventory.objects.select_for_update().get(pk=inventory_id)
    if row.reserved:
        raise StockError(
            f"{row.product} at {row.warehouse.code}: cannot remove a stock row "
            f"while {row.reserved} units are reserved in carts."
        )
    row.delete()
    row.quantity, previous = 0, row.quantity
    _adjusted(row, previous)


def _adjusted(row, previous) -> None:
    """A staff edit of stock, for the inventory event stream (the same one carts and checkout write)."""
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

