"""Cart pages: read the visitor's cart, hand changes to the services, say what happened."""
from django.conf import settings
from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from . import clients, selectors, services, undo
from .errors import CartError
from .forms import AddBundleForm, AddToCartForm, LineQuantityForm, UndoRemoveForm


def cart_detail(request):
    cart_id = selectors.visitor_cart_id(request)
    # Viewing renews no hold (a script could keep stock held by reloading);
    # lapsed lines are judged by the free stock (selectors.CartLineView).
    cart = selectors.cart_detail(cart_id)
    return render(
        request,
        "cart/detail.html",
        {"cart": cart, "max_quantity": settings.CART_MAX_LINE_QUANTITY, "removed": undo.pop_removal(request)},
    )


def confirmed(request) -> bool:
    """Whether a destructive POST was confirmed: the confirmation page's button sends ``confirmed=yes``,
    and so does site.js once the shopper said OK to its confirm(). Shared with the order's cancel."""
    return request.POST.get("confirmed") == "yes"


def _back(request) -> str:
    """Where a refused add returns the shopper: the page the form was on (``next``, this site only), else the cart."""
    back = request.POST.get("next", "")
    if not back.startswith("/") or not url_has_allowed_host_and_scheme(
        back, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        back = reverse("cart")
    return back


def _within_add_limit(request) -> bool:
    """Count an add against the client's limit; False (and a message) when it is over."""
    limit = clients.add_limit(request)
    if limit.hit():
        return True
    messages.error(request, f"Too many additions to the cart. Please wait {limit.retry_after()} seconds and try again.")
    return False


@require_POST
def add(request):
    form = AddToCartForm(request.POST)
    back = _back(request)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect(back)
    if not _within_add_limit(request):
        return redirect(back)
    try:
        change = services.add_to_cart(services.visitor_cart_id_or_create(request), form.cleaned_data["product"], form.cleaned_data["quantity"])
    except CartError as error:
        messages.error(request, str(error))
        return redirect(back)
    if change.held_cap:
        messages.warning(request, held_cap_message(change.added))
        return redirect("cart" if change.added else back)
    if not change.added:
        if change.short:
            messages.error(request, "Out of stock")
        else:
            messages.warning(request, f"You already have the most allowed ({change.quantity}) of {change.title} in your cart.")
        return redirect(back)
    if change.short:
        messages.warning(request, f"Only {change.added} left — we added {change.added}")
    elif change.limited:
        messages.warning(request, f"You can have at most {change.quantity} of an item — we added {change.added}")
    else:
        messages.success(request, f"Added {change.added} × {change.title} to your cart.")
    return redirect("cart")


@require_POST
def add_bundle(request):
    """"Add all to cart" of "Frequently bought together": one of each product, each reserved as far as stock allows.

    One request counts as one add against the client's limit, as the single
    add does; a repeated submit adds one more of each, as it would there.
    """
    form = AddBundleForm(request.POST)
    back = _back(request)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect(back)
    if not _within_add_limit(request):
        return redirect(back)
    try:
        changes = services.add_bundle(services.visitor_cart_id_or_create(request), form.cleaned_data["product"])
    except CartError as error:
        messages.error(request, str(error))
        return redirect(back)
    if any(change.held_cap for change in changes):
        messages.warning(request, held_cap_message(sum(change.added for change in changes)))
    # One unit of each: a product got its unit or nothing, so no "only N left".
    for change in changes:
        if change.held_cap:
            continue  # said once for the bundle, above
        if not change.added:
            if change.short:
                messages.error(request, f"Out of stock — we could not add {change.title}.")
            else:
                messages.warning(request, f"You already have the most allowed ({change.quantity}) of {change.title} in your cart.")
        else:
            messages.success(request, f"Added {change.added} × {change.title} to your cart.")
    return redirect("cart" if any(change.added for change in changes) else back)


def held_cap_message(added) -> str:
    held = f"we added {added}" if added else "we could not add more"
    return (
        f"Without signing in, your carts can hold at most {settings.CART_MAX_HELD_UNITS_PER_CLIENT} items "
        f"together — {held}. Sign in to add more."
    )


@require_POST
def update_line(request, line_id):
    form = LineQuantityForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("cart")
    cart_id = selectors.visitor_cart_id(request)
    try:
        change = services.set_quantity(cart_id, line_id, form.cleaned_data["quantity"])
    except CartError as error:
        messages.error(request, str(error))
        return redirect("cart")
    if not change.requested:
        undo.remember_removal(request, cart_id, change)  # the cart page says it, with its Undo
    elif change.held_cap:
        messages.warning(request, held_cap_message(change.added))
    elif not change.quantity:
        messages.error(request, f"Out of stock — {change.title} was removed from your cart.")
    elif change.short:
        messages.warning(request, f"Only {change.quantity} left — your cart now has {change.quantity} of {change.title}.")
    else:
        messages.success(request, f"Updated {change.title}: {change.quantity} in your cart.")
    return redirect("cart")


@require_POST
def remove_line(request, line_id):
    cart_id = selectors.visitor_cart_id(request)
    try:
        change = services.remove_line(cart_id, line_id)
    except CartError as error:
        messages.error(request, str(error))
    else:
        undo.remember_removal(request, cart_id, change)
    return redirect("cart")


@require_POST
def undo_remove(request):
    """Put a removed line back (``undo``): as far as stock allows, never twice."""
    form = UndoRemoveForm(request.POST)
    if not form.is_valid():
        messages.error(request, form.first_error())
        return redirect("cart")
    cart_id = selectors.visitor_cart_id(request)
    removed = undo.read_token(form.cleaned_data["token"], cart_id)
    if removed is None:
        messages.error(request, "This removal can no longer be undone. Add the item again from its page.")
        return redirect("cart")
    if not _within_add_limit(request):
        return redirect("cart")
    product_id, quantity = removed
    try:
        change = services.restore_line(cart_id, product_id, quantity)
    except CartError as error:
        messages.error(request, str(error))
        return redirect("cart")
    if change.held_cap:
        messages.warning(request, held_cap_message(change.added))
    elif not change.added and change.quantity >= quantity:
        messages.info(request, f"{change.title} is already back in your cart.")
    elif not change.quantity:
        messages.error(request, f"{change.title} is out of stock now, so it could not be put back.")
    elif change.quantity < quantity:
        messages.warning(
            request, f"Only {change.quantity} of {change.title} could be put back: the rest was bought meanwhile."
        )
    else:
        messages.success(request, f"{change.title} is back in your cart ({change.quantity}).")
    return redirect("cart")


@require_http_methods(["GET", "POST"])
def empty(request):
    """Empty the cart once the shopper confirmed: site.js asks with confirm(), without JS this page does."""
    cart_id = selectors.visitor_cart_id(request)
    if request.method == "GET" or not confirmed(request):
        cart = selectors.cart_detail(cart_id)
        if not cart.lines:
            return redirect("cart")
        return render(request, "cart/confirm_empty.html", {"cart": cart})
    if cart_id is not None:
        services.empty_cart(cart_id)
    messages.success(request, "Your cart is empty.")
    return redirect("cart")
