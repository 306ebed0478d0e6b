"""The recommendations API's routes, mounted at /api/ (the pages' shelves come from templatetags/)."""
from django.urls import path

from . import api

urlpatterns = [
    path("products/<int:pk>/recommendations/", api.ProductRecommendationsView.as_view(), name="api-product-recommendations"),
    path("products/<int:pk>/bought-together/", api.ProductBoughtTogetherView.as_view(), name="api-product-bought-together"),
    path("recommendations/", api.ShopperRecommendationsView.as_view(), name="api-recommendations"),
]
