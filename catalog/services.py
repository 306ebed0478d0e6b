"""Write paths of the catalog that staff, commands and shoppers use.

Stock rows are also written by carts and checkout; staff edits therefore lock
the row and change only ``quantity``, never a ``reserved`` value read earlier.
"""
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.utils import timezone

from amazon_site.events.services import record

from .models import Inventory, Product, Review
from .selectors import review_refusal
from .stock import StockError


class ReviewError(Exception):
    """A review the store refuses; the message says why, for the shopper."""


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


@transaction.atomic
def add_review(*, user, product_id, rating: int, title: str, body: str) -> Review:
    """Post a shopper's review and fold its stars into the product's rating.

    The product row is locked first (FOR NO KEY UPDATE: carts and orders may
    still reference it meanwhile), so concurrent reviews of a product queue
    up and none overwrites another's count, and a shopper's double submit
    finds the first review. ``rating`` is rounded half up to one decimal from
    the exact ``rating_total``; ratings that came without Review rows (the
    seeded catalog) count as earlier reviews: the total starts at
    rating × review_count.
    """
    product = (
        Product.objects.select_for_update(no_key=True)
        .only("rating", "review_count", "rating_total")
        .filter(pk=product_id, is_active=True)
        .first()
    )
    if product is None:
        raise ReviewError("This product is no longer sold.")
    if refusal := review_refusal(user, product_id):
        raise ReviewError(refusal)
    review = Review.objects.create(product=product, user=user, rating=rating, title=title, body=body)
    earlier = product.rating_total if product.rating_total is not None else product.rating * product.review_count
    total, count = earlier + rating, product.review_count + 1
    Product.objects.filter(pk=product_id).update(
        rating=(total / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        rating_total=total,
        review_count=count,
        updated_at=timezone.now(),
    )
    return review
