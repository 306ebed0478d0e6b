"""Write paths of the catalog that staff and commands use.

Stock rows, staff edits included, change only through ``catalog.stock``.
"""
from django.db import transaction
from django.utils import timezone

from .models import Product


@transaction.atomic
def set_products_active(product_ids, *, active: bool) -> int:
    """Show or hide products in the store; returns how many changed."""
    changed = Product.objects.filter(pk__in=product_ids).exclude(is_active=active)
    return changed.update(is_active=active, updated_at=timezone.now())
