from django.urls import path

from . import views

urlpatterns = [
    path("", views.cart_detail, name="cart"),
    path("add/", views.add, name="cart-add"),
    path("add-bundle/", views.add_bundle, name="cart-add-bundle"),
    path("lines/<int:line_id>/", views.update_line, name="cart-line"),
    path("lines/<int:line_id>/remove/", views.remove_line, name="cart-remove"),
    path("undo/", views.undo_remove, name="cart-undo"),
    path("empty/", views.empty, name="cart-empty"),
]
