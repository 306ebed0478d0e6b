from rest_framework import serializers

from .models import Brand, Category
from .selectors import BROWSE_SORTS, DEFAULT_BROWSE_SORT


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


class ProductDetailSerializer(ProductCardSerializer):
    """A product as its page shows it."""

    description = serializers.CharField()
    attributes = serializers.JSONField()
    brand_slug = serializers.CharField(source="brand.slug")
    category = serializers.CharField(source="category.slug")
    category_name = serializers.CharField(source="category.name")
    seller = serializers.CharField(source="seller.name")
    stock_level = serializers.ChoiceField(
        source="stock_badge.level", choices=["in", "low", "out"], help_text="What the stock badge shows: in stock, low or out."
    )


class ProductFilterSerializer(serializers.Serializer):
    """The product list's query: strict, unlike search's, so a typo is a 400 and not a different list."""

    # Slugs are checked as slugs before they are looked up: PostgreSQL refuses
    # to compare text with a NUL byte, which would make that a 500.
    category = serializers.SlugField(required=False, help_text="A category slug; the category's descendants are included.")
    brand = serializers.SlugField(required=False, help_text="A brand slug.")
    price_min = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    price_max = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    sort = serializers.ChoiceField(choices=list(BROWSE_SORTS), default=DEFAULT_BROWSE_SORT)

    def validate_category(self, slug) -> Category:
        category = Category.objects.filter(slug=slug).first()
        if category is None:
            raise serializers.ValidationError("No category has this slug.")
        return category

    def validate_brand(self, slug) -> Brand:
        brand = Brand.objects.filter(slug=slug).first()
        if brand is None:
            raise serializers.ValidationError("No brand has this slug.")
        return brand

    def validate(self, data):
        if data.get("price_min") is not None and data.get("price_max") is not None and data["price_min"] > data["price_max"]:
            raise serializers.ValidationError({"price_max": "Must not be below price_min."})
        return data


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


class SuggestionSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["product", "brand", "category"])
    label = serializers.CharField()
    url = serializers.CharField(help_text="The product's page, the search filtered by the brand, or the category's page.")


class CompletionsSerializer(serializers.Serializer):
    query = serializers.CharField(help_text="The query as read: NUL bytes dropped, spaces collapsed, trimmed.")
    suggestions = SuggestionSerializer(many=True)
