from django.urls import path

from . import api

urlpatterns = [
    path("api/products/<int:pk>/recommendations/", api.ProductRecommendationsView.as_view(), name="api-product-recommendations"),
    path("api/recommendations/", api.ShopperRecommendationsView.as_view(), name="api-recommendations"),
]
