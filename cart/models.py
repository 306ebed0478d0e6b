"""Carts, their lines, and the stock each line holds.

A line says what the shopper wants (``quantity``); its ``Reservation`` rows say
what stock is actually held for it, per warehouse, and until when. The two
differ only when a reservation lapsed and the stock went to someone else: the
line is then short, and checkout waits until the shopper adjusts it.

Rows here change only through ``cart.services`` and ``cart.jobs``, which keep
``Inventory.reserved`` equal to the sum of the reservation rows of each
inventory row (through ``catalog.stock``).
"""
from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Cart(models.Model):
    # SET_NULL, not CASCADE: deleting an account must not delete reservation
    # rows behind the stock module's back. The orphaned cart's reservations
    # expire and are released like any other.
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="cart"
    )
    created_at = models.DateTimeField(default=timezone.now)
    # A visitor's cart: a keyed hash of the client's address (cart/clients.py),
    # so the units all of one client's carts hold can be capped. Empty for
    # accounts' carts and for carts from before it was kept.
    client = models.CharField(max_length=32, blank=True, default="", db_index=True)

    def __str__(self):
        return f"Cart {self.pk} ({self.user or 'visitor'})"


class CartLine(models.Model):
    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="lines")
    # Products are deactivated, not deleted; if one is deleted its stock rows go
    # with it, so the line and its reservations may go too.
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+")
    quantity = models.PositiveIntegerField()
    # The price when the line was added: checkout shows the shopper any change.
    unit_price = models.DecimalField(max_digits=10, decimal_places=2, null=True)
    added_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["added_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_line_one_per_product"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="cart_line_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × product {self.product_id}"


class Reservation(models.Model):
    """Units of a line's product held in one warehouse until ``reserved_until``.

    Releasing deletes the row, so a row can be released only once. An expired
    row still holds its stock until something releases it: the cart's own next
    activity renews it, a shortage on the product or the beat task frees it.
    """

    line = models.ForeignKey(CartLine, on_delete=models.CASCADE, related_name="reservations")
    # The line's product, repeated so expiry can find a product's rows without a join.
    product = models.ForeignKey("catalog.Product", on_delete=models.CASCADE, related_name="+", db_index=False)
    warehouse = models.ForeignKey("catalog.Warehouse", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField()
    reserved_until = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["line", "warehouse"], name="reservation_one_per_line_warehouse"),
            models.CheckConstraint(condition=Q(quantity__gte=1), name="reservation_quantity_positive"),
        ]
        indexes = [
            models.Index(fields=["product", "reserved_until"], name="reservation_product_expiry"),
            models.Index(fields=["reserved_until"], name="reservation_expiry"),
        ]

    def __str__(self):
        return f"{self.quantity} of product {self.product_id} at warehouse {self.warehouse_id}"
