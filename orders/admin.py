"""Staff screens for orders: look them up, and move them on through the services.

Nothing on an order is edited by hand: its status is a protected state
machine and its prices, address and payments are a record of what happened.
Staff act through the actions, which call ``orders.fulfilment`` once per order,
or through the order page's buttons: one per move the state machine allows
now, posting to ``move_view``, which calls the same services. The order mails
queue is shown too, read-only: staff may only send queued ones now.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseRedirect
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.views.decorators.http import require_POST

from amazon_site.core.admin import StoreModelAdmin

from . import emails, fulfilment, selectors
from .errors import OrderError
from .forms import ReturnForm, ShipForm
from .models import Address, Order, OrderEvent, OrderItem, OutgoingMail, Payment


@dataclass(frozen=True)
class Move:
    label: str
    done: str  # for the message: "Order 100-… packed."
    apply: Callable  # (order_id, actor, cleaned form data) -> Order: a fulfilment service
    form: type | None = None  # what the move asks for first


# The order page's buttons, by the name of the Order transition each makes; "pay" is checkout's alone.
MOVES = {
    "pack": Move("Mark packed", "packed", lambda pk, actor, data: fulfilment.pack(pk, actor=actor)),
    "ship": Move("Ship", "shipped", lambda pk, actor, data: fulfilment.ship(pk, actor=actor, **data), ShipForm),
    "deliver": Move("Mark delivered", "delivered", lambda pk, actor, data: fulfilment.deliver(pk, actor=actor)),
    "cancel": Move("Cancel & refund", "cancelled", lambda pk, actor, data: fulfilment.cancel_by_staff(pk, actor=actor)),
    "return_": Move(
        "Return & refund", "returned", lambda pk, actor, data: fulfilment.return_order(pk, actor=actor, **data), ReturnForm
    ),
}


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
        "address", "shipment", "subtotal", "shipping", "tax", "total", "currency", "checkout_key",
    )
    readonly_fields = fields
    inlines = [OrderItemInline, PaymentInline, OrderEventInline]
    actions = ("mark_packed", "ship", "mark_delivered", "cancel_and_refund")
    change_form_template = "orders/admin_order_change_form.html"

    @admin.display(description="Shipping address")
    def address(self, order):
        return render_to_string("orders/_address.html", {"address": order.shipping_address})

    @admin.display(description="Shipment")
    def shipment(self, order):
        shipped = selectors.shipments(order)
        if not shipped:
            return "Not shipped yet"
        return "; ".join(f"{event.note} ({event.created_at:%Y-%m-%d %H:%M} UTC)" for event in shipped)

    def get_urls(self):
        move = path(
            "<path:object_id>/move/<str:move>/",
            self.admin_site.admin_view(require_POST(self.move_view)),
            name="orders_order_move",
        )
        return [move, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        moves = []
        if order is not None and self.has_change_permission(request, order):
            for transition in order.get_available_status_transitions():
                if (move := MOVES.get(transition.name)) is not None:
                    url = reverse("admin:orders_order_move", args=[order.pk, transition.name])
                    moves.append({"label": move.label, "url": url, "form": move.form and move.form()})
        return super().change_view(request, object_id, form_url, {"order_moves": moves, **(extra_context or {})})

    def move_view(self, request, object_id, move):
        """One move of one order, from its page's buttons; the service decides whether it can be made now."""
        if move not in MOVES:
            raise Http404("No such move.")
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        step = MOVES[move]
        data = {}
        if step.form is not None:
            form = step.form(request.POST)
            if not form.is_valid():
                errors = "; ".join(f"{form[name].label}: {' '.join(e)}" for name, e in form.errors.items())
                self.message_user(request, f"Order {order.number} was not {step.done}. {errors}", messages.ERROR)
                return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
            data = form.cleaned_data
        try:
            step.apply(order.pk, request.user, data)
        except OrderError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"Order {order.number} {step.done}.", messages.SUCCESS)
        return HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))

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


@admin.register(OutgoingMail)
class OutgoingMailAdmin(StoreModelAdmin):
    list_display = ("created_at", "order", "kind", "status", "attempts")
    list_filter = ("status",)  # not kind: its values would be a DISTINCT over every mail ever sent
    list_select_related = ("order",)
    search_fields = ("order__number",)
    search_help_text = "Order number."
    ordering = ("-id",)
    fields = ("order", "kind", "details", "status", "attempts", "last_error", "created_at", "sent_at")
    readonly_fields = fields
    actions = ("send_now",)

    def has_add_permission(self, request):
        return False  # the moves queue them

    def has_delete_permission(self, request, obj=None):
        return False  # a record of what was told

    @admin.action(description="Send now", permissions=["change"])
    def send_now(self, request, queryset):
        """The queued ones among the selected, through the sweep's service; sent and failed ones stay as they are."""
        selected = list(queryset.values_list("pk", flat=True))
        sent = emails.send_queued_mail(mail_ids=selected)
        level = messages.SUCCESS if sent else messages.WARNING
        self.message_user(request, f"{sent} of {len(selected)} mail(s) sent.", level)
