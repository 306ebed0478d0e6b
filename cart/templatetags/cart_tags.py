from django import template
from django.conf import settings

from .. import selectors

register = template.Library()


@register.inclusion_tag("cart/_add_form.html", takes_context=True)
def add_to_cart_form(context, product):
    return {
        "product": product,
        "quantities": range(1, settings.CART_MAX_LINE_QUANTITY + 1),
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("cart/_in_cart.html", takes_context=True)
def in_your_cart(context, product):
    """How many of the product the visitor's cart has: the hint beside a badge that counts them as taken."""
    request = context.get("request")
    cart_id = selectors.visitor_cart_id(request) if request is not None else None
    return {"quantity": selectors.quantity_in_cart(cart_id, product.pk)}
