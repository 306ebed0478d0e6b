from rest_framework import serializers

from catalog.serializers import ProductCardSerializer


class ShelfSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="Which shelf it is (recommendations.selectors.Shelf.kind).")
    title = serializers.CharField()
    results = ProductCardSerializer(source="products", many=True)


class BundleSerializer(serializers.Serializer):
    products = ProductCardSerializer(
        many=True, help_text="The product first, then its complements in stock; empty when the product page hides the section."
    )
    total_price = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        allow_null=True,
        help_text="The sum of the cards' prices (no bundle discount); null without products.",
    )
