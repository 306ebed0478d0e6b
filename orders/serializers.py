from rest_framework import serializers

from .models import Order, OrderEvent, OrderItem, Payment


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ("product_id", "title", "unit_price", "quantity", "line_total")


class OrderEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderEvent
        fields = ("from_status", "to_status", "created_at", "note")


class PaymentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payment
        fields = ("kind", "outcome", "amount", "card_brand", "card_last4", "created_at")


class OrderSummarySerializer(serializers.ModelSerializer):
    class Meta:
        model = Order
        fields = ("number", "status", "total", "currency", "created_at")


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True, read_only=True)
    timeline = OrderEventSerializer(source="events", many=True, read_only=True)
    payments = PaymentSerializer(many=True, read_only=True)

    class Meta:
        model = Order
        fields = (
            "number", "status", "cancel_reason", "created_at", "shipping_address",
            "subtotal", "shipping", "tax", "total", "currency", "items", "timeline", "payments",
        )


class ShipSerializer(serializers.Serializer):
    carrier = serializers.CharField(max_length=50)
    tracking_number = serializers.CharField(max_length=64)


class ReturnSerializer(serializers.Serializer):
    restockable = serializers.BooleanField(default=True)
