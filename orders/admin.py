"""Staff screens for orders: look them up, and move them on through the services.

Nothing on an order is edited by hand: its status is a protected state
machine and its prices, address and payments are a record of what happened.
Staff act through the actions, which call ``orders.fulfilment`` once per order.
"""
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse

from amazon_site.core.admin import StoreModelAdmin

from . import fulfilment
from .errors import OrderError
from .forms import ShipForm
from .models import Address, Order, OrderEvent, OrderItem, Payment


class _RecordInline(admin.TabularInline):
    """Rows written by the services; shown, never edited."""

    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class OrderItemInline(_RecordInline):
    model = OrderItem
    fields = ("title", "product", "unit_price", "quantity", "line_total")


class OrderEventInline(_RecordInline):
    model = OrderEvent
    fields = ("created_at", "from_status", "to_status", "actor", "note")


class PaymentInline(_RecordInline):
    model = Payment
    fields = ("created_at", "kind", "outcome", "amount", "card_brand", "card_last4", "gateway", "reference", "message")


@admin.register(Order)
class OrderAdmin(StoreModelAdmin):
    list_display = ("number", "user", "status", "total", "created_at")
    # The dashboard's figures link here filtered by these (and by created_at__gte, status__in, charge_state__in).
    list_filter = ("status", "created_at", "cancel_reason", "charge_state")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    search_fields = ("number", "user__email", "user__username")
    search_help_text = "Order number, or the shopper's e-mail or username."
    fields = (
        "number", "user", "status", "cancel_reason", "charge_state", "created_at",
        "shipping_address", "subtotal", "shipping", "tax", "total", "currency", "checkout_key",
    )
    readonly_fields = fields
    inlines = [OrderItemInline, PaymentInline, OrderEventInline]
    actions = ("mark_packed", "ship", "mark_delivered", "cancel_and_refund")

    def has_add_permission(self, request):
        return False  # orders come from checkout

    def has_delete_permission(self, request, obj=None):
        return False  # an order's payments and timeline are a record to keep

    @admin.action(description="Mark packed", permissions=["change"])
    def mark_packed(self, request, queryset):
        self._apply(request, queryset, "packed", lambda order: fulfilment.pack(order.pk, actor=request.user))

    @admin.action(description="Ship…", permissions=["change"])
    def ship(self, request, queryset):
        """Ask for the carrier and tracking number first (Django's intermediate-page pattern)."""
        form = ShipForm(request.POST if "apply" in request.POST else None)
        if form.is_valid():
            carrier, tracking = form.cleaned_data["carrier"], form.cleaned_data["tracking_number"]
            self._apply(
                request,
                queryset,
                "shipped",
                lambda order: fulfilment.ship(order.pk, actor=request.user, carrier=carrier, tracking_number=tracking),
            )
            return None
        return TemplateResponse(
            request,
            "orders/admin_ship.html",
            {
                **self.admin_site.each_context(request),
                "title": "Ship orders",
                "opts": self.model._meta,
                "orders": queryset,
                "form": form,
                "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            },
        )

    @admin.action(description="Mark delivered", permissions=["change"])
    def mark_delivered(self, request, queryset):
        self._apply(request, queryset, "delivered", lambda order: fulfilment.deliver(order.pk, actor=request.user))

    @admin.action(description="Cancel & refund", permissions=["change"])
    def cancel_and_refund(self, request, queryset):
        self._apply(request, queryset, "cancelled", lambda order: fulfilment.cancel_by_staff(order.pk, actor=request.user))

    def _apply(self, request, queryset, done, move):
        """One service call per order: a refused order does not stop the others."""
        moved = 0
        for order in queryset.order_by("pk"):
            try:
                move(order)
            except OrderError as error:
                self.message_user(request, str(error), messages.ERROR)
            else:
                moved += 1
        if moved:
            self.message_user(request, f"{moved} order(s) {done}.", messages.SUCCESS)


@admin.register(Address)
class AddressAdmin(StoreModelAdmin):
    list_display = ("full_name", "user", "city", "postal_code", "country", "created_at")
    list_select_related = ("user",)
    list_filter = ("country",)
    search_fields = ("full_name", "city", "postal_code", "user__email", "user__username")
    raw_id_fields = ("user",)
