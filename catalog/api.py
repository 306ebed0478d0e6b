"""The catalog API: product lists and details as the category and product pages read them, and search."""
from types import SimpleNamespace

from django.conf import settings
from django.core.validators import ProhibitNullCharactersValidator
from django.utils.cache import patch_cache_control
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
from .pagination import BoundedPaginator
from .search import typeahead
from .search.facets import build_facets
from .search.query import PRICE_BUCKETS, RATING_THRESHOLDS, SORTS, SearchRequest
from .serializers import (
    CompletionsSerializer,
    ProductCardSerializer,
    ProductDetailSerializer,
    ProductFilterSerializer,
    SearchResponseSerializer,
)


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


@extend_schema(parameters=[ProductFilterSerializer])
class ProductListView(generics.ListAPIView):
    """GET /api/products/?category=&brand=&price_min=&price_max=&sort=&page=: active products, newest first."""

    permission_classes = [AllowAny]
    serializer_class = ProductCardSerializer
    pagination_class = BoundedPagination

    def get_queryset(self):
        filters = ProductFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return selectors.product_list_ids(**filters.validated_data)

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
            OpenApiParameter("page", int, description="A page that does not exist (0, past the last) is the first."),
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


class SuggestView(APIView):
    """GET /api/search/suggest/?q=: completions of a partly typed query, as the header's search box shows them."""

    permission_classes = [AllowAny]

    @extend_schema(
        description=(
            "Up to 8 categories, brands and active products whose words begin with the query's words, "
            "categories and brands first, each kind most popular first. A query shorter than 2 characters "
            "gets none; an overlong one is trimmed. Only a NUL byte is refused."
        ),
        parameters=[OpenApiParameter("q", str, description="What has been typed so far.")],
        responses=CompletionsSerializer,
    )
    def get(self, request):
        params = _without_nul(request.query_params)
        response = Response(CompletionsSerializer(typeahead.complete(params.get("q", ""))).data)
        patch_cache_control(response, public=True, max_age=typeahead.CACHE_SECONDS)
        return response
