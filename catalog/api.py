"""The catalog API: product lists and details as the category and product pages read them, and search."""
from types import SimpleNamespace

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.db import connection
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from . import search as catalog_search
from . import selectors
from .models import Product
from .pagination import BoundedPaginator
from .search.facets import build_facets
from .search.query import PRICE_BUCKETS, RATING_THRESHOLDS, SORTS, SearchRequest
from .serializers import ProductCardSerializer, ProductDetailSerializer, ProductFilterSerializer, SearchResponseSerializer


class BoundedPagination(PageNumberPagination):
    """Page numbers over at most CATALOG_MAX_PAGES pages, counted no further, as on the category pages.

    A full count and a deep OFFSET both cost time linear in the rows skipped.
    """

    def get_page_size(self, request):
        return settings.CATALOG_PAGE_SIZE

    def django_paginator_class(self, object_list, per_page):
        return BoundedPaginator(object_list, per_page, max_items=settings.CATALOG_MAX_PAGES * per_page)

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["capped"] = self.page.paginator.capped
        return response

    def get_paginated_response_schema(self, schema):
        schema = super().get_paginated_response_schema(schema)
        schema["properties"]["capped"] = {
            "type": "boolean",
            "description": "True when more products match than the list pages through: `count` is then a lower bound.",
        }
        schema["required"].append("capped")
        return schema


# A price range sorted by date or rating is merged only when at least this many
# products match: then each category's scan soon finds a page's worth (sparser
# matches would make the scans skip most of their rows), and fewer are sorted
# cheaply. Counting up to it is an index-only scan.
DENSE_MATCHES = 20_000


def product_ids(*, sort, category=None, brand=None, price_min=None, price_max=None):
    """Ordered ids of the matching active products, read the way ``selectors.browse_products`` reads a category.

    The browse indexes lead with the category, so the list names its
    categories (all of them when none is asked for), and one ordered index
    scan per category, merged, reads about a page from each. A brand's
    products are read through its index and sorted instead.
    """
    ordering = selectors.BROWSE_SORTS[sort][1]
    tree = selectors.category_tree()
    category_ids = tree.descendant_ids(category.pk) if category is not None else list(tree.nodes)
    ids = Product.objects.filter(is_active=True, category_id__in=category_ids)
    if brand is not None:
        ids = ids.filter(brand=brand)
    if price_min is not None:
        ids = ids.filter(price__gte=price_min)
    if price_max is not None:
        ids = ids.filter(price__lte=price_max)
    ids = ids.order_by(*ordering).values_list("id", flat=True)
    if (
        brand is None
        and 1 < len(category_ids) <= selectors.MAX_MERGED_CATEGORIES
        and connection.features.supports_slicing_ordering_in_compound
        and (
            (price_min is None and price_max is None)
            or sort in ("price", "-price")  # the price index serves the range in order
            or ids.order_by()[:DENSE_MATCHES].count() == DENSE_MATCHES
        )
    ):
        return selectors.MergedCategoryIds(ids, category_ids, ordering)
    return ids


@extend_schema(parameters=[ProductFilterSerializer])
class ProductListView(generics.ListAPIView):
    """GET /api/products/?category=&brand=&price_min=&price_max=&sort=&page=: active products, newest first."""

    permission_classes = [AllowAny]
    serializer_class = ProductCardSerializer
    pagination_class = BoundedPagination

    def get_queryset(self):
        filters = ProductFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return product_ids(**filters.validated_data)

    def paginate_queryset(self, queryset):
        # The list is paged on ids alone; only the page's products are read in full.
        return selectors.products_by_ids(super().paginate_queryset(queryset))


class ProductDetailView(APIView):
    """GET /api/products/<id>/: an active product with its stock; anything else is a 404."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ProductDetailSerializer)
    def get(self, request, pk):
        return Response(ProductDetailSerializer(selectors.product_detail(pk)).data)


_LENIENT = "Values that are not understood are ignored, as on the search page; only a NUL byte is refused."


def _without_nul(params):
    """The query string, refused if a value holds a NUL byte: PostgreSQL refuses to compare text with one."""
    for name, values in params.lists():
        if any("\x00" in value for value in values):
            raise ValidationError({name: [ProhibitNullCharactersValidator.message]})
    return params


class SearchView(APIView):
    """GET /api/search/?q=&category=&brand=&price=&price_min=&price_max=&rating_min=&in_stock=&sort=&page=

    The same engine and the same lenient parameter reading as the search page.
    """

    permission_classes = [AllowAny]

    @extend_schema(
        description=_LENIENT,
        parameters=[
            OpenApiParameter("q", str, description="The words to find."),
            OpenApiParameter("category", str, many=True, description="Category slugs (a parent includes its descendants)."),
            OpenApiParameter("brand", str, many=True, description="Brand slugs."),
            OpenApiParameter("price", str, many=True, enum=list(PRICE_BUCKETS), description="Price buckets."),
            OpenApiParameter("price_min", OpenApiTypes.DECIMAL),
            OpenApiParameter("price_max", OpenApiTypes.DECIMAL),
            OpenApiParameter("rating_min", int, enum=list(RATING_THRESHOLDS)),
            OpenApiParameter("in_stock", bool),
            OpenApiParameter("sort", str, enum=list(SORTS)),
            OpenApiParameter("page", int, description="Past the last page, the last page is shown."),
        ],
        responses=SearchResponseSerializer,
    )
    def get(self, request):
        params = _without_nul(request.query_params)
        result = catalog_search.search(SearchRequest.from_params(params, page_size=settings.CATALOG_PAGE_SIZE))
        payload = SimpleNamespace(
            result=result, products=selectors.products_by_ids(result.ids), facets=build_facets(result)
        )
        return Response(SearchResponseSerializer(payload).data)
