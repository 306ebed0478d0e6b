"""Log-in folds the visitor's cart into the account's."""
from django.contrib import messages
from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from . import services
from .selectors import CART_SESSION_KEY


@receiver(user_logged_in)
def merge_visitor_cart(sender, request, user, **kwargs):
    if request is None or not hasattr(request, "session"):
        return
    result = services.merge_carts(source_cart_id=request.session.get(CART_SESSION_KEY), user=user)
    if result.cart_id is None:
        request.session.pop(CART_SESSION_KEY, None)
    else:
        request.session[CART_SESSION_KEY] = result.cart_id
    for change in result.reduced:
        messages.warning(
            request,
            f"{change.title}: your carts held {change.requested} together; we kept {change.quantity}.",
            fail_silently=True,
        )
