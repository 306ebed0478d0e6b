"""The orders API: a shopper's own orders, and staff moving orders through the state machine.

Every move goes through ``orders.services``; a move the order's state does
not allow is a 409 with the reason, as the pages show it.
"""
from django.http import Http404
from django.shortcuts import get_object_or_404
from rest_framework import generics, status
from rest_framework.permissions import IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from . import selectors, services
from .models import Order
from .serializers import OrderSerializer, OrderSummarySerializer, ReturnSerializer, ShipSerializer


class OrderListView(generics.ListAPIView):
    """GET /api/orders/: the signed-in shopper's orders, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderSummarySerializer

    def get_queryset(self):
        return selectors.orders_for_user(self.request.user)


class OrderDetailView(APIView):
    """GET /api/orders/<number>/: one of the shopper's orders; anyone else's is a 404."""

    permission_classes = [IsAuthenticated]

    def get(self, request, number):
        return Response(OrderSerializer(selectors.order_for_user(request.user, number)).data)


class OrderCancelView(APIView):
    """POST /api/orders/<number>/cancel/: the shopper cancels while the order is pending or paid."""

    permission_classes = [IsAuthenticated]

    def post(self, request, number):
        order = selectors.order_for_user(request.user, number)
        try:
            order = services.cancel_by_customer(user=request.user, order_id=order.pk)
        except services.OrderError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(OrderSerializer(order).data)


class StaffMoveView(APIView):
    """POST /api/staff/orders/<number>/<move>/: pack, ship, deliver, cancel or return an order."""

    permission_classes = [IsAdminUser]
    MOVES = {
        "pack": (None, lambda order, actor, data: services.pack(order.pk, actor=actor)),
        "ship": (ShipSerializer, lambda order, actor, data: services.ship(order.pk, actor=actor, **data)),
        "deliver": (None, lambda order, actor, data: services.deliver(order.pk, actor=actor)),
        "cancel": (None, lambda order, actor, data: services.cancel_by_staff(order.pk, actor=actor)),
        "return": (ReturnSerializer, lambda order, actor, data: services.return_order(order.pk, actor=actor, **data)),
    }

    def post(self, request, number, move):
        if move not in self.MOVES:
            raise Http404("No such move.")
        order = get_object_or_404(Order, number=number)
        input_serializer, apply = self.MOVES[move]
        data = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        try:
            order = apply(order, request.user, data)
        except services.OrderError as error:
            return Response({"detail": str(error)}, status=status.HTTP_409_CONFLICT)
        return Response(OrderSerializer(order).data)
