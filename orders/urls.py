from django.urls import path

from . import api, views

urlpatterns = [
    path("checkout/", views.checkout_address, name="checkout"),
    path("checkout/review/", views.checkout_review, name="checkout-review"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("api/orders/", api.OrderListView.as_view(), name="api-orders"),
    path("api/orders/<str:number>/", api.OrderDetailView.as_view(), name="api-order"),
    path("api/orders/<str:number>/cancel/", api.OrderCancelView.as_view(), name="api-order-cancel"),
    path(
        "api/staff/orders/<str:number>/<str:move>/",
        api.StaffMoveView.as_view(),
        name="api-staff-order-move",
    ),
]
