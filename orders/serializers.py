from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from . import cards, regions
from .errors import CheckoutErrorCode, OrderErrorCode
from .delivery import tracking_url
from .models import ADDRESS_FIELDS, Address, Order, OrderEvent, OrderItem, Payment, Return, ReturnReason, Shipment
from .selectors import saved_addresses


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ("id", "product_id", "title", "unit_price", "quantity", "line_total")


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ("from_status", "to_status", "title", "created_at", "note")


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ("kind", "outcome", "amount", "card_brand", "card_last4", "created_at")


class ShipmentLineSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    title = serializers.CharField(source="item.title")
    quantity = serializers.IntegerField()


class ShipmentSerializer(serializers.ModelSerializer):
    warehouse = serializers.CharField(source="warehouse.code", default=None)
    lines = ShipmentLineSerializer(many=True, read_only=True)
    tracking_url = serializers.SerializerMethodField()

    class Meta:
        model = Shipment
        fields = (
            "id", "warehouse", "status", "carrier", "tracking_number", "tracking_url",
            "estimated_delivery", "shipped_at", "delivered_at", "lines",
        )

    def get_tracking_url(self, shipment) -> str:
        return tracking_url(shipment.carrier, shipment.tracking_number)


class ReturnLineSerializer(serializers.Serializer):
    item_id = serializers.IntegerField()
    quantity = serializers.IntegerField(min_value=1)


class ReturnRecordSerializer(serializers.ModelSerializer):
    lines = ReturnLineSerializer(many=True, read_only=True)

    class Meta:
        model = Return
        fields = ("id", "status", "reason", "comment", "staff_note", "refund_amount", "restocked", "created_at", "received_at", "lines")


class ReturnRequestSerializer(serializers.Serializer):
    """A shopper's return: units per item of a delivered order, and why."""

    lines = ReturnLineSerializer(many=True, allow_empty=False)
    reason = serializers.ChoiceField(choices=ReturnReason.choices)
    comment = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class RefuseReturnSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=300)


class OrderSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ("number", "status", "total", "currency", "created_at")


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    timeline = OrderEventSerializer(source="events", many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)
    shipments = ShipmentSerializer(many=True, read_only=True)
    returns = ReturnRecordSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "number", "status", "cancel_reason", "created_at", "shipping_address",
            "subtotal", "shipping", "tax", "total", "currency", "items", "shipments", "returns", "timeline", "payments",
        )


class ShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=50)
    tracking_number = serializers.CharField(max_length=64)


class ReturnSerializer(serializers.Serializer):
    restockable = serializers.BooleanField(default=True)


class StaffReturnMoveSerializer(serializers.Serializer):
    """A staff move of a return, as the schema shows it: ``refuse`` takes a note, ``receive`` whether to restock."""

    note = serializers.CharField(max_length=300, required=False, help_text="refuse: required, the shopper reads it.")
    restockable = serializers.BooleanField(default=True, help_text="receive: restock the warehouses (default true).")


class StaffMoveSerializer(serializers.Serializer):
    """A staff move's body, as the schema shows it: ``ship`` takes the carrier and
    tracking number, ``return`` whether the goods can be sold again, the others nothing."""

    carrier = serializers.CharField(max_length=50, required=False, help_text="ship: required.")
    tracking_number = serializers.CharField(max_length=64, required=False, help_text="ship: required.")
    restockable = serializers.BooleanField(default=True, help_text="return: restock the warehouses (default true).")


class AddressSerializer(serializers.ModelSerializer):
    """An address as the page's form takes it: a known country, and its region where it has them (``orders.regions``)."""

    country = serializers.CharField(help_text="ISO 3166-1 alpha-2 code, e.g. US or GB (any case).")
    region = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        help_text="ISO 3166-2 code, e.g. US-WA (or WA with country US): required for US, CA and AU, "
        "empty for other countries.",
    )

    class Meta:
        model = Address
        fields = ("id", *ADDRESS_FIELDS)
        read_only_fields = ("id",)

    def validate_country(self, value):
        country = value.strip().upper()
        try:
            regions.validate_country(country)
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.messages) from None
        return country

    def validate(self, data):
        try:
            data["region"] = regions.clean_region(data["country"], data.get("region", ""))
        except DjangoValidationError as error:
            raise serializers.ValidationError(error.message_dict) from None
        return data


class CardSerializer(serializers.Serializer):
    """The card, checked as the checkout page's form checks it; never stored, logged or sent back."""

    number = serializers.CharField(max_length=30, write_only=True, help_text="Spaces and dashes are ignored.")
    exp_month = serializers.IntegerField(min_value=1, max_value=12, write_only=True)
    exp_year = serializers.IntegerField(write_only=True)
    cvc = serializers.RegexField(
        r"^\d{3,4}$", write_only=True, error_messages={"invalid": "The security code is 3 or 4 digits."}
    )

    def validate_number(self, value):
        return cards.clean_number(value)

    def validate_exp_year(self, value):
        cards.check_expiry_year(value)  # the years the page offers
        return value

    def validate(self, data):
        cards.check_not_expired(data["exp_month"], data["exp_year"])
        return data


class CheckoutSerializer(serializers.Serializer):
    address = AddressSerializer(required=False, help_text="A new shipping address; it is saved for next time.")
    address_id = serializers.IntegerField(required=False, help_text="Or one of the addresses GET /api/checkout/ lists.")
    card = CardSerializer()
    expected_total = serializers.DecimalField(
        max_digits=12, decimal_places=2, help_text="The total the shopper reviewed (GET /api/checkout/); any other is refused."
    )

    def validate_address_id(self, value):
        address = saved_addresses(self.context["request"].user).filter(pk=value).first()
        if address is None:
            raise serializers.ValidationError("Choose one of your addresses.")
        return address

    def validate(self, data):
        if ("address" in data) == ("address_id" in data):
            raise serializers.ValidationError("Send either address or address_id.")
        return data


class SummaryLineSerializer(serializers.Serializer):
    product_id = serializers.IntegerField()
    title = serializers.CharField()
    quantity = serializers.IntegerField()
    unit_price = serializers.DecimalField(max_digits=10, decimal_places=2, help_text="The price now: what the order charges.")
    price_when_added = serializers.DecimalField(max_digits=10, decimal_places=2, allow_null=True)
    price_changed = serializers.BooleanField()
    line_total = serializers.DecimalField(max_digits=12, decimal_places=2)
    blocked = serializers.BooleanField(help_text="Short of stock or no longer sold: fix it in the cart.")


class CheckoutSummarySerializer(serializers.Serializer):
    lines = SummaryLineSerializer(source="summary.lines", many=True)
    subtotal = serializers.DecimalField(source="summary.subtotal", max_digits=12, decimal_places=2)
    shipping = serializers.DecimalField(source="summary.shipping", max_digits=12, decimal_places=2)
    tax = serializers.DecimalField(source="summary.tax", max_digits=12, decimal_places=2)
    total = serializers.DecimalField(
        source="summary.total", max_digits=12, decimal_places=2, help_text="Send it back as expected_total."
    )
    blocked = serializers.BooleanField(source="summary.blocked")
    price_changed = serializers.BooleanField(source="summary.price_changed")
    addresses = AddressSerializer(many=True, help_text="The shopper's saved addresses, the default first, then newest first.")


class OrderErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="Why, for a person to read.")
    code = serializers.ChoiceField(OrderErrorCode.choices, help_text="Why, for a program.")


class CheckoutConflictSerializer(serializers.Serializer):
    detail = serializers.CharField()
    code = serializers.ChoiceField(CheckoutErrorCode.choices, help_text="Why nothing was placed, for a program.")
    lines = serializers.ListField(child=serializers.CharField(), help_text="Titles of the cart lines to fix, if any.")


class PaymentUnconfirmedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="What happens next.")
    order = OrderSerializer(help_text="The order, pending.")


class PaymentDeclinedSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text="The processor's answer.")
    code = serializers.ChoiceField(CheckoutErrorCode.choices, help_text="`payment_declined`.")
    order = OrderSerializer(help_text="The order, cancelled; its items are back in the cart.")
