from rest_framework import serializers

from catalog.serializers import ProductCardSerializer


class ShelfSerializer(serializers.Serializer):
    kind = serializers.CharField(help_text='"also_bought", "bestsellers" or "personal".')
    title = serializers.CharField()
    results = ProductCardSerializer(source="products", many=True)
