"""The cart as the API shows it, and what a shopper sends to change it.

Input serializers only check what was sent; ``cart.services`` decides what happens.
"""
from rest_framework import serializers

from .services import BUNDLE_MAX_PRODUCTS, quantity_field_options


class CartProductSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    title = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")


class CartLineSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="line_id")
    product = CartProductSerializer()
    quantity = serializers.IntegerField(help_text="What the shopper asked for.")
    reserved = serializers.IntegerField(help_text="Units held for this line by unexpired reservations.")
    reserved_until = serializers.DateTimeField(allow_null=True)
    price = serializers.DecimalField(
        source="product.price", max_digits=10, decimal_places=2, help_text="The price now: what checkout charges."
    )
    price_when_added = serializers.DecimalField(source="unit_price", max_digits=10, decimal_places=2, allow_null=True)
    total = serializers.DecimalField(max_digits=12, decimal_places=2)
    is_short = serializers.BooleanField(help_text="The reservation lapsed and the free stock cannot cover the line.")
    is_lapsed = serializers.BooleanField(
        help_text="The hold ran out (viewing does not renew it) but free stock covers the line: the next change "
        "or the order takes it."
    )
    is_unavailable = serializers.BooleanField(help_text="The product is no longer sold.")
    blocks_checkout = serializers.BooleanField()


class CartSerializer(serializers.Serializer):
    lines = CartLineSerializer(many=True)
    item_count = serializers.IntegerField()
    subtotal = serializers.DecimalField(max_digits=12, decimal_places=2)
    checkout_blocked = serializers.BooleanField(help_text="Checkout waits until every flagged line is adjusted.")


class LineChangeSerializer(serializers.Serializer):
    """What a change did to one line."""

    title = serializers.CharField()
    requested = serializers.IntegerField(help_text="Units asked to add, or the quantity asked for.")
    added = serializers.IntegerField(help_text="Units newly reserved by this change.")
    quantity = serializers.IntegerField(help_text="The line's quantity afterwards; 0 when the line is gone.")
    limited = serializers.BooleanField(help_text="The per-line limit cut the request.")
    short = serializers.BooleanField(help_text="There was not enough stock for the request.")
    held_cap = serializers.BooleanField(
        help_text="Not signed in: the cap on units one client's carts hold together cut the request."
    )


class CartChangeSerializer(serializers.Serializer):
    change = LineChangeSerializer()
    cart = CartSerializer()


class BundleChangeSerializer(serializers.Serializer):
    changes = LineChangeSerializer(many=True, help_text="One per product, in the order of `products`.")
    cart = CartSerializer()


class LineQuantitySerializer(serializers.Serializer):
    minimum = 0  # 0 removes the line

    def get_fields(self):
        # Built per serializer so that the limit follows the setting.
        return {
            "quantity": serializers.IntegerField(
                **quantity_field_options(self.minimum), help_text="0 removes the line." if not self.minimum else None
            )
        }


class AddLineSerializer(LineQuantitySerializer):
    minimum = 1

    def get_fields(self):
        return {
            "product": serializers.IntegerField(
                min_value=1,
                help_text="A product id.",
                error_messages={code: "This product is not available." for code in ("required", "null", "invalid", "min_value")},
            ),
            **super().get_fields(),
        }


class AddBundleSerializer(serializers.Serializer):
    products = serializers.ListField(
        child=serializers.IntegerField(
            min_value=1,
            error_messages={code: "One of these products is not available." for code in ("null", "invalid", "min_value")},
        ),
        help_text=f"Product ids, each once: one unit of each is added (at most {BUNDLE_MAX_PRODUCTS}).",
        error_messages={"not_a_list": "Send the product ids as a list.", "required": "Choose the products to add."},
    )
