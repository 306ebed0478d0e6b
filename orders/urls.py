from django.urls import path, re_path

from . import api, views

ORDER_NUMBER = "[0-9-]{1,20}"

urlpatterns = [
    path("checkout/", views.checkout_address, name="checkout"),
    path("checkout/review/", views.checkout_review, name="checkout-review"),
    path("orders/", views.order_list, name="orders"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/cancel/", views.order_cancel, name="order-cancel"),
    path("api/checkout/", api.CheckoutView.as_view(), name="api-checkout"),
    path("api/orders/", api.OrderListView.as_view(), name="api-orders"),
    # Order numbers are digits and dashes; any other path under /api/ is the API's 404.
    re_path(rf"^api/orders/(?P<number>{ORDER_NUMBER})/$", api.OrderDetailView.as_view(), name="api-order"),
    re_path(rf"^api/orders/(?P<number>{ORDER_NUMBER})/cancel/$", api.OrderCancelView.as_view(), name="api-order-cancel"),
    re_path(
        rf"^api/staff/orders/(?P<number>{ORDER_NUMBER})/(?P<move>{'|'.join(api.StaffMoveView.MOVES)})/$",
        api.StaffMoveView.as_view(),
        name="api-staff-order-move",
    ),
]
