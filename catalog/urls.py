from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.search_suggest, name="search-suggest"),
    path("c/<slug:slug>/", views.category_detail, name="category"),
    path("p/<int:pk>/", views.product_detail, name="product-short"),
    path("p/<int:pk>/image.svg", views.product_image, name="product-image"),
    path("p/<int:pk>/<slug:slug>/", views.product_detail, name="product"),
]
