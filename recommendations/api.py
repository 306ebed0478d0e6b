from drf_spectacular.utils import extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from catalog import selectors as catalog_selectors

from . import selectors
from .serializers import BundleSerializer, ShelfSerializer


class ProductRecommendationsView(APIView):
    """GET /api/products/{id}/recommendations/: what the product page shows under "also bought"."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ShelfSerializer)
    def get(self, request, pk):
        product = catalog_selectors.product_detail(pk)
        return Response(ShelfSerializer(selectors.for_product(product)).data)


class ProductBoughtTogetherView(APIView):
    """GET /api/products/{id}/bought-together/: the product page's "Frequently bought together"."""

    permission_classes = [AllowAny]

    @extend_schema(responses=BundleSerializer)
    def get(self, request, pk):
        bundle = selectors.frequently_bought_together(catalog_selectors.product_detail(pk))
        return Response(BundleSerializer(bundle).data if bundle else {"products": [], "total_price": None})


class ShopperRecommendationsView(APIView):
    """GET /api/recommendations/: the signed-in shopper's "Recommended for you", bestsellers for anyone else."""

    permission_classes = [AllowAny]

    @extend_schema(responses=ShelfSerializer)
    def get(self, request):
        return Response(ShelfSerializer(selectors.for_shopper(request.user)).data)
