"""Shelves for the pages of lower apps (home, product, cart): their templates compose them,
so catalog and cart never import recommendations."""
from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("recommendations/_product_sections.html", takes_context=True)
def product_recommendations(context, product):
    """"Frequently bought together" (with its one "Add all to cart" form) and
    "Customers who bought this also bought", or the bestsellers standing in for it."""
    sections = selectors.for_product_page(product)
    return {"bundle": sections.bundle, "shelf": sections.shelf, "csrf_token": context.get("csrf_token")}


@register.inclusion_tag("recommendations/_shelf.html", takes_context=True)
def shopper_shelf(context):
    """"Recommended for you" for a signed-in shopper, bestsellers for anyone else."""
    return {"shelf": selectors.for_shopper(context["request"].user)}


@register.inclusion_tag("recommendations/_shelf.html")
def cart_shelf(cart):
    """"Frequently bought with items in your cart"."""
    return {"shelf": selectors.for_cart(line.product.pk for line in cart.lines)}
