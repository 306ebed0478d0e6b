"""The orders API's routes, mounted at /api/ (the pages' routes are in urls.py): checkout, orders, returns, staff moves."""
from django.urls import path, re_path

from . import api

ORDER_NUMBER = "[0-9-]{1,20}"

urlpatterns = [
    path("checkout/", api.CheckoutView.as_view(), name="api-checkout"),
    path("orders/", api.OrderListView.as_view(), name="api-orders"),
    # Order numbers are digits and dashes; any other path under /api/ is the API's 404.
    re_path(rf"^orders/(?P<number>{ORDER_NUMBER})/$", api.OrderDetailView.as_view(), name="api-order"),
    re_path(rf"^orders/(?P<number>{ORDER_NUMBER})/cancel/$", api.OrderCancelView.as_view(), name="api-order-cancel"),
    re_path(rf"^orders/(?P<number>{ORDER_NUMBER})/returns/$", api.OrderReturnsView.as_view(), name="api-order-returns"),
    re_path(
        rf"^staff/shipments/(?P<pk>[0-9]{{1,18}})/(?P<move>{'|'.join(api.StaffShipmentMoveView.MOVES)})/$",
        api.StaffShipmentMoveView.as_view(),
        name="api-staff-shipment-move",
    ),
    re_path(
        rf"^staff/returns/(?P<pk>[0-9]{{1,18}})/(?P<move>{'|'.join(api.StaffReturnMoveView.MOVES)})/$",
        api.StaffReturnMoveView.as_view(),
        name="api-staff-return-move",
    ),
    re_path(
        rf"^staff/orders/(?P<number>{ORDER_NUMBER})/(?P<move>{'|'.join(api.StaffMoveView.MOVES)})/$",
        api.StaffMoveView.as_view(),
        name="api-staff-order-move",
    ),
]
