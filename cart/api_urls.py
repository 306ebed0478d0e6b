"""The cart API's routes, mounted at /api/cart/ (the pages' routes are in urls.py)."""
from django.urls import path

from . import api

urlpatterns = [
    path("", api.CartView.as_view(), name="api-cart"),
    path("lines/", api.CartLinesView.as_view(), name="api-cart-lines"),
    path("bundle/", api.CartBundleView.as_view(), name="api-cart-bundle"),
    path("lines/<int:line_id>/", api.CartLineView.as_view(), name="api-cart-line"),
]
