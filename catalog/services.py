"""Write paths of the catalog that staff and commands use.

Stock rows are also written by carts and checkout; staff edits therefore lock
the row and change only ``quantity``, never a ``reserved`` value read earlier.
"""
from django.db import transaction
from django.utils import timezone

from .models import Inventory, Product


class StockError(Exception):
    """A stock change that would break ``0 <= reserved <= quantity``."""


@transaction.atomic
def set_products_active(product_ids, *, active: bool) -> int:
    """Show or hide products in the store; returns how many changed."""
    changed = Product.objects.filter(pk__in=product_ids).exclude(is_active=active)
    return changed.update(is_active=active, updated_at=timezone.now())


@transaction.atomic
def set_stock_quantity(inventory_id, quantity: int) -> Inventory:
    row = Inventory.objects.select_for_update().get(pk=inventory_id)
    if quantity < row.reserved:
        raise StockError(
            f"{row.product} at {row.warehouse.code}: cannot set stock to {quantity}, "
            f"{row.reserved} units are reserved in carts."
        )
    row.quantity = quantity
    row.save(update_fields=["quantity"])
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
