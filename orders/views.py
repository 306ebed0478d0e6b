"""Checkout and order pages: read through the selectors, act through checkout and fulfilment, say what happened."""
import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import InvalidPage, Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_http_methods, require_POST

from cart.selectors import visitor_cart_id
from cart.views import confirmed

from . import checkout, fulfilment, returns, selectors
from .addresses import add_address, delete_address, set_default, update_address
from .errors import CheckoutError, OrderError
from .forms import AddressForm, PaymentForm, ReturnRequestForm, SavedAddressForm
from .payments import TestGateway, get_gateway

# Only the id of the address chosen at the first step; never anything about the card.
ADDRESS_SESSION_KEY = "checkout_address_id"
ORDERS_PER_PAGE = 10


def _summary(request):
    cart_id = visitor_cart_id(request)
    return cart_id, selectors.checkout_summary(user=request.user, cart_id=cart_id)


@login_required
@require_http_methods(["GET", "POST"])
def checkout_address(request):
    _, summary = _summary(request)
    if summary.is_empty:
        messages.error(request, "Your cart is empty. Add something before checking out.")
        return redirect("cart")
    addresses = selectors.saved_addresses(request.user)
    # Two forms on one page: the hidden "form" field says which one was sent.
    use_saved = request.method == "POST" and request.POST.get("form") == "saved"
    saved_form = SavedAddressForm(
        request.POST if use_saved else None,
        addresses=addresses,
        initial={"address": request.session.get(ADDRESS_SESSION_KEY) or addresses.values_list("pk", flat=True).first()},
    )
    new_form = AddressForm(request.POST if request.method == "POST" and not use_saved else None)
    if saved_form.is_valid():
        request.session[ADDRESS_SESSION_KEY] = saved_form.cleaned_data["address"].pk
        return redirect("checkout-review")
    if new_form.is_valid():
        address = checkout.save_address(user=request.user, data=new_form.cleaned_data)
        request.session[ADDRESS_SESSION_KEY] = address.pk
        return redirect("checkout-review")
    return render(
        request,
        "orders/checkout_address.html",
        {"summary": summary, "saved_form": saved_form if use_saved or addresses.exists() else None, "new_form": new_form},
    )


@login_required
@sensitive_variables("form")
@sensitive_post_parameters("card_number", "cvc")
@require_http_methods(["GET", "POST"])
def checkout_review(request):
    if request.method == "POST":
        limit = checkout.attempt_limit(request.user)
        if not limit.hit():
            # Nothing placed, nothing charged: the review page comes back with a fresh form.
            messages.error(
                request, f"Too many checkout attempts. Please wait {limit.retry_after()} seconds and try again."
            )
            return redirect("checkout-review")
    cart_id, summary = _summary(request)
    address = selectors.saved_addresses(request.user).filter(pk=request.session.get(ADDRESS_SESSION_KEY)).first()
    form = PaymentForm(request.POST) if request.method == "POST" else None
    if form is not None and address is not None and form.is_valid():
        # Before the empty-cart check: a second click finds its cart empty, and its order.
        return _place(request, cart_id, address, form)
    if summary.is_empty:
        messages.error(request, "Your cart is empty. Add something before checking out.")
        return redirect("cart")
    if address is None:
        messages.info(request, "Where should we send your order?")
        return redirect("checkout")
    if form is None:
        form = PaymentForm(initial={"checkout_key": uuid.uuid4(), "expected_total": summary.total})
    arrivals = selectors.delivery_estimates(cart_id, address.country)
    return render(
        request,
        "orders/checkout_review.html",
        {"summary": summary, "address": address, "form": form, "arrivals": arrivals, "test_cards": _test_cards()},
    )


def _test_cards() -> dict | None:
    """The test gateway's card numbers, for the payment step in development and demo mode.

    Only while ``TestGateway`` is the gateway (the default, and what DEBUG
    runs with): with a real processor these numbers would only be declined.
    """
    if not isinstance(get_gateway(), TestGateway):
        return None
    return {"succeeds": _in_fours(TestGateway.SUCCEEDS), "declined": _in_fours(TestGateway.DECLINED)}


def _in_fours(number: str) -> str:
    return " ".join(number[start:start + 4] for start in range(0, len(number), 4))


@sensitive_variables()  # also covers checkout's frames below: they hold the card
def _place(request, cart_id, address, form):
    try:
        result = checkout.place_order(
            user=request.user,
            cart_id=cart_id,
            address=address,
            card=form.card(),
            checkout_key=form.cleaned_data["checkout_key"],
            expected_total=form.cleaned_data["expected_total"],
        )
    except CheckoutError as error:
        messages.error(request, str(error))
        # Stock problems are fixed in the cart; anything else needs a fresh look at the review.
        _, summary = _summary(request)
        return redirect("cart" if summary.is_empty or summary.blocked else "checkout-review")
    if result.in_progress:
        # A second click while the first is charging the card: its order page will say how that ended.
        messages.info(request, checkout.payment_in_progress_message())
        return redirect("order", number=result.order.number)
    if result.payment_unconfirmed:
        messages.warning(request, checkout.payment_unconfirmed_message())
        return redirect("order", number=result.order.number)
    if result.declined_message:
        # Also a form sent again after its card was declined (the back button): its key found the cancelled order.
        # The review keeps the address (the session's) and shows the items, reserved again, with a fresh form.
        messages.error(
            request,
            f"Payment declined: {result.declined_message} Nothing was charged and your items are reserved again. "
            "Please try another card.",
        )
        return redirect("checkout-review")
    return redirect(reverse("order", args=[result.order.number]) + "?placed=1")


@login_required
def order_list(request):
    paginator = Paginator(selectors.order_history(request.user), ORDERS_PER_PAGE)
    try:
        page = paginator.page(request.GET.get("page", 1))
    except InvalidPage:
        page = paginator.page(1)
    return render(request, "orders/order_list.html", {"page": page, "orders": page.object_list})


@login_required
def order_detail(request, number):
    order = selectors.order_for_user(request.user, number)
    return _order_page(request, order)


def _order_page(request, order, return_form=None, status=200):
    choices, returns_until = selectors.return_choices(order)
    if return_form is None and choices:
        return_form = ReturnRequestForm(choices=choices)
    return render(
        request,
        "orders/order_detail.html",
        {
            **selectors.order_page(order),
            "can_cancel": order.customer_can_cancel(),
            "placed": request.GET.get("placed") == "1",
            "return_form": return_form if choices else None,
            "returns_until": returns_until,
        },
        status=status,
    )


@login_required
@require_POST
def order_return(request, number):
    """The shopper asks to send units back; a refused request shows the page again with why."""
    order = selectors.order_for_user(request.user, number)
    choices, _ = selectors.return_choices(order)
    if not choices:
        messages.error(request, f"Order {order.number} has nothing that can be returned now.")
        return redirect("order", number=order.number)
    form = ReturnRequestForm(request.POST, choices=choices)
    if not form.is_valid():
        return _order_page(request, order, return_form=form, status=400)
    try:
        returns.request_return(
            user=request.user, order_id=order.pk, quantities=form.quantities(),
            reason=form.cleaned_data["reason"], comment=form.cleaned_data["comment"],
        )
    except OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Your return is requested. We will e-mail you once it is approved; then send the units back.")
    return redirect("order", number=order.number)


@login_required
@require_http_methods(["GET", "POST"])
def order_cancel(request, number):
    """Cancel once the shopper confirmed: site.js asks with confirm() on the order page, without JS this page does."""
    order = selectors.order_for_user(request.user, number)
    if request.method == "GET" or not confirmed(request):
        if not order.customer_can_cancel():
            messages.error(
                request, f"Order {order.number} is {order.get_status_display().lower()} and can no longer be cancelled."
            )
            return redirect("order", number=order.number)
        return render(request, "orders/order_cancel.html", {"order": order})
    try:
        fulfilment.cancel_by_customer(user=request.user, order_id=order.pk)
    except OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Order {order.number} is cancelled.")
    return redirect("order", number=order.number)


@login_required
@require_http_methods(["GET", "POST"])
def address_book(request):
    """The shopper's saved addresses, and a form to add one."""
    form = AddressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        add_address(user=request.user, data=form.cleaned_data)
        messages.success(request, "The address is saved.")
        return redirect("addresses")
    return render(
        request, "orders/address_book.html", {"addresses": selectors.saved_addresses(request.user), "form": form}
    )


@login_required
@require_http_methods(["GET", "POST"])
def address_edit(request, pk):
    address = get_object_or_404(selectors.saved_addresses(request.user), pk=pk)
    form = AddressForm(request.POST or None, instance=address)
    if request.method == "POST" and form.is_valid():
        try:
            update_address(user=request.user, address_id=address.pk, data=form.cleaned_data)
        except OrderError as error:  # deleted meanwhile
            messages.error(request, str(error))
        else:
            messages.success(request, "The address is updated.")
        return redirect("addresses")
    return render(request, "orders/address_edit.html", {"address": address, "form": form})


@login_required
@require_POST
def address_delete(request, pk):
    address = get_object_or_404(selectors.saved_addresses(request.user), pk=pk)
    try:
        delete_address(user=request.user, address_id=address.pk)
    except OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "The address is deleted. Orders placed with it keep their copy.")
    return redirect("addresses")


@login_required
@require_POST
def address_default(request, pk):
    address = get_object_or_404(selectors.saved_addresses(request.user), pk=pk)
    try:
        set_default(user=request.user, address_id=address.pk)
    except OrderError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "This is now your default address: checkout offers it first.")
    return redirect("addresses")
