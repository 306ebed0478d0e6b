"""The cart API: the visitor's cart, changed through the same reservation services as the cart page.

Whose cart: a token names an account, so its cart; a browser (the site's own
JS) has the session's, as the pages do: the anonymous visitor's, or the
account's once signed in. A line of any other cart is a 404.

What the cart refuses answers the shared error body plus ``"code"``
(``cart.errors.CartErrorCode``), for clients to branch on.
"""
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from amazon_site.core.api import VisitorCsrf, error_response

from . import clients, selectors, services
from .errors import CartError, CartErrorCode
from .serializers import (
    AddBundleSerializer,
    AddLineSerializer,
    BundleChangeSerializer,
    CartChangeSerializer,
    CartSerializer,
    LineQuantitySerializer,
)

REFUSED = error_response(
    "Invalid input (`errors` by field), or the cart refused the change: `detail` tells the shopper why, `code` "
    "(`not_available`, `invalid_quantity`, `line_not_found`, `cart_changed`) what."
)
BUNDLE_REFUSED = error_response(
    "Invalid input (`errors` by field), or the cart refused the bundle whole, nothing added: `detail` tells the "
    "shopper why, `code` what: `invalid_bundle` (no product, one twice, too many), `not_available`, `cart_changed`."
)


def _over_add_limit(request) -> Response | None:
    """Count an add against the client's limit (``clients.add_limit``); the 429 when it is over."""
    limit = clients.add_limit(request)
    if limit.hit():
        return None
    return Response(
        {
            "detail": f"Too many additions to the cart. Please wait {limit.retry_after()} seconds and try again.",
            "code": "throttled",  # DRF's code for its own 429s
        },
        status=status.HTTP_429_TOO_MANY_REQUESTS,
        headers={"Retry-After": str(limit.retry_after())},
    )


def _cart_with_line(request, line_id) -> int | None:
    """The visitor's cart id, if the line is in it: another cart's line is as good as missing."""
    cart_id = selectors.visitor_cart_id(request)
    if not any(line.line_id == line_id for line in selectors.cart_detail(cart_id).lines):
        return None
    return cart_id


def _refused(error: CartError, status_code=status.HTTP_400_BAD_REQUEST) -> Response:
    return Response({"detail": str(error), "code": error.code}, status=status_code)


def _not_in_cart() -> Response:
    return _refused(CartError("That item is not in your cart.", CartErrorCode.LINE_NOT_FOUND), status.HTTP_404_NOT_FOUND)


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
        if (over := _over_add_limit(request)) is not None:
            return over
        cart_id = services.visitor_cart_id_or_create(request)
        try:
            change = services.add_to_cart(cart_id, serializer.validated_data["product"], serializer.validated_data["quantity"])
        except CartError as error:
            return _refused(error)
        return _changed(change, cart_id)


class CartBundleView(APIView):
    """POST /api/cart/bundle/: "Frequently bought together"'s "Add all to cart", one unit of each product.

    Each product is reserved as far as stock allows, as a single add would
    (its change says ``short``); one request counts as one add against the
    client's limit.
    """

    permission_classes = [AllowAny, VisitorCsrf]

    @extend_schema(
        request=AddBundleSerializer,
        responses={200: BundleChangeSerializer, 400: BUNDLE_REFUSED, 429: error_response("Too many adds from this address.")},
    )
    def post(self, request):
        serializer = AddBundleSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if (over := _over_add_limit(request)) is not None:
            return over
        cart_id = services.visitor_cart_id_or_create(request)
        try:
            changes = services.add_bundle(cart_id, serializer.validated_data["products"])
        except CartError as error:
            return _refused(error)
        return Response(BundleChangeSerializer({"changes": changes, "cart": selectors.cart_detail(cart_id)}).data)


class CartLineView(APIView):
    """PATCH or DELETE /api/cart/lines/<id>/: change a line's quantity, or remove it, releasing its stock.

    PATCH with quantity 0 removes the line too, and answers 200 like any
    PATCH: the change (``quantity`` 0) and the cart without the line. DELETE
    answers 204.
    """

    permission_classes = [AllowAny, VisitorCsrf]

    @extend_schema(request=LineQuantitySerializer, responses={200: CartChangeSerializer, 400: REFUSED})
    def patch(self, request, line_id):
        serializer = LineQuantitySerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if (cart_id := _cart_with_line(request, line_id)) is None:
            return _not_in_cart()
        try:
            change = services.set_quantity(cart_id, line_id, serializer.validated_data["quantity"])
        except CartError as error:
            return _refused(error)
        return _changed(change, cart_id)

    @extend_schema(responses={204: None, 400: REFUSED})
    def delete(self, request, line_id):
        if (cart_id := _cart_with_line(request, line_id)) is None:
            return _not_in_cart()
        try:
            services.remove_line(cart_id, line_id)
        except CartError as error:
            return _refused(error)
        return Response(status=status.HTTP_204_NO_CONTENT)
