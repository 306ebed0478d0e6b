from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("cart/_add_form.html", takes_context=True)
def add_to_cart_form(context, product):
    """The product's add-to-cart form, its quantities only those an add can take (``selectors.addable_quantity``).

    ``product.available`` comes from the catalog's selectors. Nothing left to
    add leaves no form: sold out shows nothing, a full line says so.
    """
    request = context.get("request")
    cart_id = selectors.visitor_cart_id(request) if request is not None else None
    addable = selectors.addable_quantity(cart_id, product.pk, product.available)
    return {
        "product": product,
        "quantities": range(1, addable + 1),
        "line_full": not addable and product.available > 0,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("cart/_in_cart.html", takes_context=True)
def in_your_cart(context, product):
    """How many of the product the visitor's cart has: the hint beside a badge that counts them as taken."""
    request = context.get("request")
    cart_id = selectors.visitor_cart_id(request) if request is not None else None
    return {"quantity": selectors.quantity_in_cart(cart_id, product.pk)}
