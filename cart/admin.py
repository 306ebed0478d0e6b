"""Carts are read-only for staff: every change must go through cart.services,
which keeps the stock's ``reserved`` counts in step with the reservations."""
from django.contrib import admin

from amazon_site.core.admin import StoreModelAdmin

from .models import Cart, CartLine, Reservation


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CartLineInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = CartLine
    fields = ("product", "quantity", "added_at")
    raw_id_fields = ("product",)


@admin.register(Cart)
class CartAdmin(ReadOnlyAdminMixin, StoreModelAdmin):
    list_display = ("id", "user", "created_at")
    list_select_related = ("user",)
    show_full_result_count = False
    inlines = [CartLineInline]


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdminMixin, StoreModelAdmin):
    list_display = ("id", "product_id", "warehouse", "quantity", "reserved_until")
    list_select_related = ("warehouse",)
    list_filter = ("warehouse",)
    show_full_result_count = False
    ordering = ("reserved_until",)
