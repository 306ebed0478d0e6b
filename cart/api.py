"""The cart API: the visitor's cart, changed through the same reservation services as the cart page.

Whose cart: a token names an account, so its cart; a browser (the site's own
JS) has the session's, as the pages do: the anonymous visitor's, or the
account's once signed in. A line of any other cart is a 404.
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from amazon_site.core.api import VisitorCsrf, error_response

from . import clients, selectors, services
from .serializers import AddLineSerializer, CartChangeSerializer, CartSerializer, LineQuantitySerializer

REFUSED = error_response("Invalid input (`errors` by field), or the cart refused the change: `detail` tells the shopper why.")


def _cart_with_line(request, line_id) -> int:
    """The visitor's cart id, if the line is in it: another cart's line is as good as missing."""
    cart_id = selectors.visitor_cart_id(request)
    if not any(line.line_id == line_id for line in selectors.cart_detail(cart_id).lines):
        raise NotFound("That item is not in your cart.")
    return cart_id


def _changed(change, cart_id) -> Response:
    return Response(CartChangeSerializer({"change": change, "cart": selectors.cart_detail(cart_id)}).data)


class CartView(APIView):
    """GET /api/cart/: the visitor's cart with its lines, reservations, totals and flags."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CartSerializer)
    def get(self, request):
        cart_id = selectors.visitor_cart_id(request)
        return Response(CartSerializer(selectors.cart_detail(cart_id)).data)


class CartLinesView(APIView):
    """POST /api/cart/lines/: add units of a product, reserving them; short stock adds what is left."""

    permission_classes = [AllowAny, VisitorCsrf]

    @extend_schema(
        request=AddLineSerializer,
        responses={200: CartChangeSerializer, 400: REFUSED, 429: error_response("Too many adds from this address.")},
    )
    def post(self, request):
        serializer = AddLineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        limit = clients.add_limit(request)
        if not limit.hit():
            return Response(
                {"detail": f"Too many additions to the cart. Please wait {limit.retry_after()} seconds and try again."},
                status=status.HTTP_429_TOO_MANY_REQUESTS,
                headers={"Retry-After": str(limit.retry_after())},
            )
        cart_id = services.visitor_cart_id_or_create(request)
        try:
            change = services.add_to_cart(cart_id, serializer.validated_data["product"], serializer.validated_data["quantity"])
        except services.CartError as error:
            return Response({"detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        return _changed(change, cart_id)


class CartLineView(APIView):
    """PATCH or DELETE /api/cart/lines/<id>/: change a line's quantity, or remove it, releasing its stock."""

    permission_classes = [AllowAny, VisitorCsrf]

    @extend_schema(request=LineQuantitySerializer, responses={200: CartChangeSerializer, 400: REFUSED})
    def patch(self, request, line_id):
        serializer = LineQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        cart_id = _cart_with_line(request, line_id)
        try:
            change = services.set_quantity(cart_id, line_id, serializer.validated_data["quantity"])
        except services.CartError as error:
            return Response({"detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        return _changed(change, cart_id)

    @extend_schema(responses={204: None, 400: REFUSED})
    def delete(self, request, line_id):
        try:
            services.remove_line(_cart_with_line(request, line_id), line_id)
        except services.CartError as error:
            return Response({"detail": str(error)}, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)
