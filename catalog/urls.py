from django.urls import path

from . import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("api/search/", api.SearchView.as_view(), name="api-search"),
    path("api/products/", api.ProductListView.as_view(), name="api-products"),
    path("api/products/<int:pk>/", api.ProductDetailView.as_view(), name="api-product"),
    path("c/<slug:slug>/", views.category_detail, name="category"),
    path("p/<int:pk>/", views.product_detail, name="product-short"),
    path("p/<int:pk>/<slug:slug>/", views.product_detail, name="product"),
    # Two segments after the id: no product slug can shadow it.
    path("p/<int:pk>/reviews/new/", views.add_review, name="product-review"),
]
