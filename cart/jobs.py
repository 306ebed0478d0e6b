"""The cart's background jobs (``cart/tasks.py`` runs them), and the release of lapsed holds they share with carts."""
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from catalog import stock as stock_api

from .models import Cart, Reservation


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
    rows go (the expiry job released them long ago), so the stock books are
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

    Also ``catalog.stock``'s releaser on a shortage (registered in apps.py).
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
