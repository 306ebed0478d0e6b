"""The pages of checkout and orders (the API's routes are in api_urls.py)."""
from django.urls import path

from . import views

urlpatterns = [
    path("checkout/", views.checkout_address, name="checkout"),
    path("checkout/review/", views.checkout_review, name="checkout-review"),
    path("account/addresses/", views.address_book, name="addresses"),
    path("account/addresses/<int:pk>/edit/", views.address_edit, name="address-edit"),
    path("account/addresses/<int:pk>/delete/", views.address_delete, name="address-delete"),
    path("account/addresses/<int:pk>/default/", views.address_default, name="address-default"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("orders/<str:number>/return/", views.order_return, name="order-return"),
]
