from rest_framework import serializers

from catalog.serializers import ProductCardSerializer


class ShelfSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text="Which shelf it is (recommendations.selectors.Shelf.kind).")
    title = serializers.CharField()
    results = ProductCardSerializer(source="products", many=True)
