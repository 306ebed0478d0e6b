"""The catalog API's routes, mounted at /api/ (the pages' routes are in urls.py)."""
from django.urls import path

from . import api

urlpatterns = [
    path("search/", api.SearchView.as_view(), name="api-search"),
    path("search/suggest/", api.SuggestView.as_view(), name="api-search-suggest"),
    path("products/", api.ProductListView.as_view(), name="api-products"),
    path("products/<int:pk>/", api.ProductDetailView.as_view(), name="api-product"),
]
