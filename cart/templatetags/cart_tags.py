from django import template
from django.conf import settings

register = template.Library()


@register.inclusion_tag("cart/_add_form.html", takes_context=True)
def add_to_cart_form(context, product):
    return {
        "product": product,
        "quantities": range(1, settings.CART_MAX_LINE_QUANTITY + 1),
        "csrf_token": context.get("csrf_token"),
    }
