from rest_framework import serializers


class ProductCardSerializer(serializers.Serializer):
    """A product as listed: what a card on a results page shows."""

    id = serializers.IntegerField()
    title = serializers.CharField()
    url = serializers.CharField(source="get_absolute_url")
    brand = serializers.CharField(source="brand.name")
    price = serializers.DecimalField(max_digits=10, decimal_places=2)
    rating = serializers.DecimalField(max_digits=2, decimal_places=1)
    review_count = serializers.IntegerField()
    available = serializers.IntegerField()
    stock = serializers.CharField(source="stock_badge.label")


class FacetValueSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    count = serializers.IntegerField()
    selected = serializers.BooleanField()
    depth = serializers.IntegerField()


class FacetsSerializer(serializers.Serializer):
    categories = FacetValueSerializer(many=True)
    brands = FacetValueSerializer(many=True)
    price = FacetValueSerializer(many=True)
    ratings = FacetValueSerializer(many=True)
    in_stock = FacetValueSerializer()


class SearchResponseSerializer(serializers.Serializer):
    query = serializers.CharField(source="result.request.q")
    sort = serializers.CharField(source="result.request.effective_sort")
    page = serializers.IntegerField(source="result.request.page")
    page_size = serializers.IntegerField(source="result.request.page_size")
    total = serializers.IntegerField(source="result.total")
    exact = serializers.BooleanField(
        source="result.counts.exact", help_text="False when total and facet counts are estimated (very broad queries)."
    )
    suggestion = serializers.CharField(source="result.suggestion", allow_null=True)
    widened = serializers.BooleanField(source="result.widened")
    backend = serializers.CharField(source="result.backend")
    results = ProductCardSerializer(source="products", many=True)
    facets = FacetsSerializer()
