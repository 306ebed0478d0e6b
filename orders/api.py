"""The orders API: checkout, a shopper's own orders, and staff moving orders through the state machine.

Everything goes through ``orders.checkout`` and ``orders.fulfilment``, as the
pages do. A move the order's state does not allow is a 409 with the reason;
so is a checkout the cart or the prices do not allow (with the lines to fix):
the request was fine, the state of the cart was not, and the same request may
succeed once it is fixed. A declined card is a 402. Each of these bodies
carries a ``code`` (``orders.errors``) next to the ``detail`` for a person.
"""
import uuid

from django.shortcuts import get_object_or_404
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_variables
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import Throttled, ValidationError
from rest_framework.permissions import BasePermission, IsAdminUser, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from amazon_site.core.parsers import JSONParser
from cart.selectors import visitor_cart_id

from . import checkout, fulfilment, returns, selectors, shipments
from .errors import CheckoutError, CheckoutErrorCode, OrderError, OrderErrorCode
from .models import Order
from .payments import Card
from .serializers import (
    CheckoutConflictSerializer,
    CheckoutSerializer,
    CheckoutSummarySerializer,
    OrderErrorSerializer,
    OrderSerializer,
    OrderSummarySerializer,
    PaymentDeclinedSerializer,
    PaymentUnconfirmedSerializer,
    RefuseReturnSerializer,
    ReturnRecordSerializer,
    ReturnRequestSerializer,
    ReturnSerializer,
    ShipSerializer,
    StaffMoveSerializer,
    StaffReturnMoveSerializer,
)

MOVE_REFUSED = OpenApiResponse(OrderErrorSerializer, "The order's state does not allow this; `detail` says why.")
IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.UUID,
    OpenApiParameter.HEADER,
    required=True,
    description="A new UUID per checkout; the same one again (a retry) returns the first answer and never charges twice.",
)


def _checkout_key(request) -> uuid.UUID:
    try:
        return uuid.UUID(request.headers.get("Idempotency-Key", ""))
    except ValueError:
        raise ValidationError(
            {"Idempotency-Key": ["Send a new UUID for each checkout, and the same one to retry it."]}
        ) from None


def _refused(error: OrderError) -> Response:
    return Response({"detail": str(error), "code": error.code}, status=status.HTTP_409_CONFLICT)


class CheckoutView(APIView):
    """GET /api/checkout/: what checkout would charge. POST: place the order and charge the card."""

    permission_classes = [IsAuthenticated]
    parser_classes = [JSONParser]

    @extend_schema(responses=CheckoutSummarySerializer)
    def get(self, request):
        summary = selectors.checkout_summary(user=request.user, cart_id=visitor_cart_id(request))
        addresses = selectors.saved_addresses(request.user)
        return Response(CheckoutSummarySerializer({"summary": summary, "addresses": addresses}).data)

    @extend_schema(
        parameters=[IDEMPOTENCY_KEY],
        request=CheckoutSerializer,
        responses={
            201: OrderSerializer,
            202: OpenApiResponse(
                PaymentUnconfirmedSerializer,
                "The card processor did not answer: the order is pending until it is settled, paid or cancelled "
                f"with nothing charged, within about {checkout.unconfirmed_settled_within_minutes()} minutes "
                "(GET /api/orders/{number}/).",
            ),
            402: OpenApiResponse(
                PaymentDeclinedSerializer, "The card was declined: the order is cancelled, its items are back in the cart."
            ),
            409: OpenApiResponse(
                CheckoutConflictSerializer,
                "Nothing was placed: the cart is empty, a line is short of stock (`lines` names it), "
                "the total is not expected_total any more, or the key is another shopper's. "
                "Or the first request with this key is still charging the card: ask again after Retry-After seconds.",
            ),
        },
    )
    @method_decorator(sensitive_variables())  # error reports show no frame's locals: they hold the card
    def post(self, request):
        limit = checkout.attempt_limit(request.user)
        if not limit.hit():  # shared with the checkout page: one budget per account
            raise Throttled(wait=limit.retry_after(), detail="Too many checkout attempts. Please wait and try again.")
        checkout_key = _checkout_key(request)
        serializer = CheckoutSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        address = data.get("address_id") or checkout.save_address(user=request.user, data=data["address"])
        try:
            result = checkout.place_order(
                user=request.user,
                cart_id=visitor_cart_id(request),
                address=address,
                card=Card(**data["card"]),
                checkout_key=checkout_key,
                expected_total=data["expected_total"],
            )
        except CheckoutError as error:
            return Response(
                {"detail": str(error), "code": error.code, "lines": error.lines}, status=status.HTTP_409_CONFLICT
            )
        if result.in_progress:
            return Response(
                {"detail": checkout.payment_in_progress_message(), "code": CheckoutErrorCode.IN_PROGRESS, "lines": []},
                status=status.HTTP_409_CONFLICT,
                headers={"Retry-After": str(checkout.CHARGE_IN_PROGRESS_RETRY_SECONDS)},
            )
        order = OrderSerializer(result.order).data
        if result.payment_unconfirmed:
            return Response({"detail": checkout.payment_unconfirmed_message(), "order": order}, status=status.HTTP_202_ACCEPTED)
        if result.declined_message:
            return Response(
                {"detail": result.declined_message, "code": CheckoutErrorCode.PAYMENT_DECLINED, "order": order},
                status=status.HTTP_402_PAYMENT_REQUIRED,
            )
        return Response(order, status=status.HTTP_201_CREATED)


class OrderListView(generics.ListAPIView):
    """GET /api/orders/: the signed-in shopper's orders, newest first."""

    permission_classes = [IsAuthenticated]
    serializer_class = OrderSummarySerializer

    def get_queryset(self):
        return selectors.orders_for_user(self.request.user)


class OrderDetailView(APIView):
    """GET /api/orders/<number>/: one of the shopper's orders; anyone else's is a 404."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=OrderSerializer)
    def get(self, request, number):
        return Response(OrderSerializer(selectors.order_for_user(request.user, number)).data)


class OrderCancelView(APIView):
    """POST /api/orders/<number>/cancel/: the shopper cancels while the order is pending or paid."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={200: OrderSerializer, 409: MOVE_REFUSED})
    def post(self, request, number):
        order = selectors.order_for_user(request.user, number)
        try:
            order = fulfilment.cancel_by_customer(user=request.user, order_id=order.pk)
        except OrderError as error:
            return _refused(error)
        return Response(OrderSerializer(order).data)


class CanChangeOrders(BasePermission):
    """What the admin's order actions need (``permissions=["change"]``): being staff is not enough."""

    message = "Moving orders needs the orders.change_order permission."

    def has_permission(self, request, view):
        return request.user.has_perm("orders.change_order")


class StaffMoveView(APIView):
    """POST /api/staff/orders/<number>/<move>/: pack, ship (one parcel), deliver, cancel or take back an order."""

    permission_classes = [IsAdminUser, CanChangeOrders]
    MOVES = {
        "pack": (None, lambda order, actor, data: fulfilment.pack(order.pk, actor=actor)),
        "ship": (ShipSerializer, lambda order, actor, data: fulfilment.ship(order.pk, actor=actor, **data)),
        "deliver": (None, lambda order, actor, data: fulfilment.deliver(order.pk, actor=actor)),
        "cancel": (None, lambda order, actor, data: fulfilment.cancel_by_staff(order.pk, actor=actor)),
        "return": (ReturnSerializer, lambda order, actor, data: returns.return_everything(order.pk, actor=actor, **data).order),
    }

    @extend_schema(
        parameters=[OpenApiParameter("move", str, OpenApiParameter.PATH, enum=list(MOVES))],
        request=StaffMoveSerializer,
        responses={200: OrderSerializer, 409: MOVE_REFUSED},
    )
    def post(self, request, number, move):
        order = get_object_or_404(Order, number=number)
        input_serializer, apply = self.MOVES[move]
        data = {}
        if input_serializer is not None:
            serializer = input_serializer(data=request.data)
            serializer.is_valid(raise_exception=True)
            data = serializer.validated_data
        try:
            order = apply(order, request.user, data)
        except OrderError as error:
            return _refused(error)
        return Response(OrderSerializer(order).data)


class OrderReturnsView(APIView):
    """POST /api/orders/<number>/returns/: the shopper asks to return units of a delivered order."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=ReturnRequestSerializer, responses={201: ReturnRecordSerializer, 409: MOVE_REFUSED})
    def post(self, request, number):
        order = selectors.order_for_user(request.user, number)
        serializer = ReturnRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        quantities = {}
        for line in data["lines"]:
            quantities[line["item_id"]] = quantities.get(line["item_id"], 0) + line["quantity"]
        try:
            ret = returns.request_return(
                user=request.user, order_id=order.pk, quantities=quantities, reason=data["reason"], comment=data["comment"]
            )
        except OrderError as error:
            return _refused(error)
        return Response(ReturnRecordSerializer(ret).data, status=status.HTTP_201_CREATED)


class StaffShipmentMoveView(APIView):
    """POST /api/staff/shipments/<id>/<move>/: pack, ship or deliver one parcel."""

    permission_classes = [IsAdminUser, CanChangeOrders]
    MOVES = {
        "pack": (None, lambda pk, actor, data: shipments.pack(pk, actor=actor)),
        "ship": (ShipSerializer, lambda pk, actor, data: shipments.ship(pk, actor=actor, **data)),
        "deliver": (None, lambda pk, actor, data: shipments.deliver(pk, actor=actor)),
    }

    @extend_schema(
        parameters=[OpenApiParameter("move", str, OpenApiParameter.PATH, enum=list(MOVES))],
        request=ShipSerializer,
        responses={200: OrderSerializer, 409: MOVE_REFUSED},
    )
    def post(self, request, pk, move):
        return _staff_move(request, self.MOVES[move], pk, lambda moved: moved.order)


class StaffReturnMoveView(APIView):
    """POST /api/staff/returns/<id>/<move>/: approve, refuse (with a note) or receive (restockable or not) a return."""

    permission_classes = [IsAdminUser, CanChangeOrders]
    MOVES = {
        "approve": (None, lambda pk, actor, data: returns.approve(pk, actor=actor)),
        "refuse": (RefuseReturnSerializer, lambda pk, actor, data: returns.refuse(pk, actor=actor, **data)),
        "receive": (ReturnSerializer, lambda pk, actor, data: returns.receive(pk, actor=actor, **data)),
    }

    @extend_schema(
        parameters=[OpenApiParameter("move", str, OpenApiParameter.PATH, enum=list(MOVES))],
        request=StaffReturnMoveSerializer,
        responses={200: OrderSerializer, 409: MOVE_REFUSED},
    )
    def post(self, request, pk, move):
        return _staff_move(request, self.MOVES[move], pk, lambda moved: moved.order)


def _staff_move(request, move, pk, order_of) -> Response:
    """Validate the body, make the move through its service, answer with the order as it is now."""
    input_serializer, apply = move
    data = {}
    if input_serializer is not None:
        serializer = input_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
    try:
        moved = apply(int(pk), request.user, data)
    except OrderError as error:
        if error.code == OrderErrorCode.NOT_FOUND:
            return Response({"detail": str(error), "code": error.code}, status=status.HTTP_404_NOT_FOUND)
        return _refused(error)
    return Response(OrderSerializer(Order.objects.get(pk=order_of(moved).pk)).data)
