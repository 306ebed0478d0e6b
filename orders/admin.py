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
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from amazon_site.core.admin import StoreModelAdmin

from . import emails, fulfilment, returns, selectors, shipments
from .errors import OrderError
from .forms import RefuseReturnForm, ReturnForm, ShipForm
from .models import Address, Order, OrderEvent, OrderItem, OutgoingMail, Payment, Return


@dataclass(frozen=True)
class Move:
    label: str
    done: str  # for the message: "Order 100-… packed."
    apply: Callable  # (order_id, actor, cleaned form data) -> Order: a fulfilment service
    form: type | None = None  # what the move asks for first


# The order page's buttons, by the name of the transition each makes: the order's own ("pay" is
# checkout's alone), its parcels', its returns'. Packing, shipping and delivering are the parcels'
# buttons; the order's own only for an order paid before parcels were recorded (they make its parcel).
MOVES = {
    "pack": Move("Mark packed", "packed", lambda pk, actor, data: fulfilment.pack(pk, actor=actor)),
    "ship": Move("Ship", "shipped", lambda pk, actor, data: fulfilment.ship(pk, actor=actor, **data), ShipForm),
    "deliver": Move("Mark delivered", "delivered", lambda pk, actor, data: fulfilment.deliver(pk, actor=actor)),
    "cancel": Move("Cancel & refund", "cancelled", lambda pk, actor, data: fulfilment.cancel_by_staff(pk, actor=actor)),
    "return_": Move(
        "Return & refund", "returned", lambda pk, actor, data: returns.return_everything(pk, actor=actor, **data), ReturnForm
    ),
}
PARCEL_MOVES = ("pack", "ship", "deliver")
SHIPMENT_MOVES = {
    "pack": Move("Mark packed", "packed", lambda pk, actor, data: shipments.pack(pk, actor=actor)),
    "ship": Move("Ship", "shipped", lambda pk, actor, data: shipments.ship(pk, actor=actor, **data), ShipForm),
    "deliver": Move("Mark delivered", "delivered", lambda pk, actor, data: shipments.deliver(pk, actor=actor)),
}
RETURN_MOVES = {
    "approve": Move("Approve", "approved", lambda pk, actor, data: returns.approve(pk, actor=actor)),
    "refuse": Move("Refuse", "refused", lambda pk, actor, data: returns.refuse(pk, actor=actor, **data), RefuseReturnForm),
    "receive": Move(
        "Received: refund", "received and refunded",
        lambda pk, actor, data: returns.receive(pk, actor=actor, **data), ReturnForm,
    ),
}
# What each kind of button moves, for the page's routes: (moves, what it is called in a message).
TARGETS = {"order": (MOVES, "Order"), "shipment": (SHIPMENT_MOVES, "Parcel"), "return": (RETURN_MOVES, "Return")}


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
    # No date_hierarchy and no full count: at a million orders each is a scan of every order
    # on every page of the list (the "created at" filter and the paginator's count stay).
    show_full_result_count = False
    search_fields = ("number", "user__email", "user__username")
    search_help_text = "Order number, or the shopper's e-mail or username."
    fields = (
        "number", "user", "status", "cancel_reason", "charge_state", "created_at",
        "address", "subtotal", "shipping", "tax", "total", "currency", "checkout_key",
    )
    readonly_fields = fields
    inlines = [OrderItemInline, PaymentInline, OrderEventInline]
    actions = ("mark_packed", "ship", "mark_delivered", "cancel_and_refund")
    change_form_template = "orders/admin_order_change_form.html"

    @admin.display(description="Shipping address")
    def address(self, order):
        return render_to_string("orders/_address.html", {"address": order.shipping_address})

    def get_urls(self):
        view = self.admin_site.admin_view(require_POST(self.move_view))
        moves = [
            path("<path:object_id>/move/<str:move>/", view, {"target": "order"}, name="orders_order_move"),
            path("<path:object_id>/shipment/<int:target_id>/<str:move>/", view, {"target": "shipment"},
                 name="orders_order_shipment_move"),
            path("<path:object_id>/return/<int:target_id>/<str:move>/", view, {"target": "return"},
                 name="orders_order_return_move"),
        ]
        return [*moves, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        order = self.get_object(request, unquote(object_id))
        context = {"order_moves": [], "order_shipments": [], "order_returns": []}
        if order is not None:
            may_move = self.has_change_permission(request, order)
            context["order_moves"] = self._buttons(order, "order", order, may_move)
            for shipment in selectors.order_shipments(order):
                context["order_shipments"].append({"shipment": shipment, "moves": self._buttons(order, "shipment", shipment, may_move)})
            for ret in selectors.order_returns(order):
                context["order_returns"].append({"return": ret, "moves": self._buttons(order, "return", ret, may_move)})
        return super().change_view(request, object_id, form_url, {**context, **(extra_context or {})})

    def _buttons(self, order, target, obj, may_move) -> list[dict]:
        """One button per move the state machine of ``obj`` (the order, a parcel, a return) allows now."""
        if not may_move:
            return []
        moves, _ = TARGETS[target]
        has_parcels = target == "order" and order.shipments.exists()
        available = {transition.name for transition in obj.get_available_status_transitions()}
        buttons = []
        for name, move in moves.items():
            if name not in available or (has_parcels and name in PARCEL_MOVES):
                continue
            if target == "order":
                url = reverse("admin:orders_order_move", args=[order.pk, name])
            else:
                url = reverse(f"admin:orders_order_{target}_move", args=[order.pk, obj.pk, name])
            buttons.append({"label": move.label, "url": url, "form": move.form and move.form(auto_id=f"id_{target}{obj.pk}_%s")})
        return buttons

    def move_view(self, request, object_id, move, target, target_id=None):
        """One move of the order, a parcel or a return, from the order page's buttons; the service decides."""
        moves, noun = TARGETS[target]
        if move not in moves:
            raise Http404("No such move.")
        if not self.has_change_permission(request):
            raise PermissionDenied
        order = self.get_object(request, unquote(object_id))
        if order is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if target == "shipment" and not order.shipments.filter(pk=target_id).exists():
            raise Http404("No such parcel in this order.")
        if target == "return" and not order.returns.filter(pk=target_id).exists():
            raise Http404("No such return of this order.")
        step = moves[move]
        name = f"Order {order.number}" if target == "order" else f"{noun} {target_id} of order {order.number}"
        back = HttpResponseRedirect(reverse("admin:orders_order_change", args=[order.pk]))
        data = {}
        if step.form is not None:
            form = step.form(request.POST)
            if not form.is_valid():
                errors = "; ".join(f"{form[field].label}: {' '.join(e)}" for field, e in form.errors.items())
                self.message_user(request, f"{name} was not {step.done}. {errors}", messages.ERROR)
                return back
            data = form.cleaned_data
        try:
            step.apply(order.pk if target == "order" else target_id, request.user, data)
        except OrderError as error:
            self.message_user(request, str(error), messages.ERROR)
        else:
            self.message_user(request, f"{name} {step.done}.", messages.SUCCESS)
        return back

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


@admin.register(Return)
class ReturnAdmin(StoreModelAdmin):
    """Returns to decide and receive; the moves are buttons on the order's page, where the parcels are."""

    list_display = ("pk", "order_link", "status", "reason", "created_at", "refund_amount")
    list_filter = ("status", "reason", "created_at")
    list_select_related = ("order",)
    search_fields = ("order__number",)
    search_help_text = "Order number."
    fields = ("order_link", "status", "reason", "comment", "staff_note", "refund_amount", "restocked", "created_at", "received_at")
    readonly_fields = fields

    @admin.display(description="Order", ordering="order__number")
    def order_link(self, ret):
        url = reverse("admin:orders_order_change", args=[ret.order_id])
        return format_html('<a href="{}">{}</a>', url, ret.order.number)

    def has_add_permission(self, request):
        return False  # shoppers ask for returns; staff take a whole order back from its page

    def has_delete_permission(self, request, obj=None):
        return False


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
