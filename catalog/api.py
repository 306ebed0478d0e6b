from types import SimpleNamespace

from django.conf import settings
from rest_framework.response import Response
from rest_framework.views import APIView

from . import search as catalog_search
from . import selectors
from .search.facets import build_facets
from .search.query import SearchRequest
from .serializers import SearchResponseSerializer


class SearchView(APIView):
    """GET /api/search/?q=&category=&brand=&price=&price_min=&price_max=&rating_min=&in_stock=&sort=&page=

    The same engine and the same lenient parameter reading as the search page.
    """

    permission_classes = []

    def get(self, request):
        result = catalog_search.search(SearchRequest.from_params(request.query_params, page_size=settings.CATALOG_PAGE_SIZE))
        payload = SimpleNamespace(
            result=result, products=selectors.products_by_ids(result.ids), facets=build_facets(result)
        )
        return Response(SearchResponseSerializer(payload).data)
