"""Shelves for the pages of lower apps (home, product, cart): their templates compose them,
so catalog and cart never import recommendations."""
from django import template

from .. import selectors

register = template.Library()


@register.inclusion_tag("recommendations/_shelf.html")
def product_shelf(product):
    """"Customers who bought this also bought", or the bestsellers standing in for it."""
    return {"shelf": selectors.for_product(product)}


@register.inclusion_tag("recommendations/_shelf.html", takes_context=True)
def shopper_shelf(context):
    """"Recommended for you" for a signed-in shopper, bestsellers for anyone else."""
    return {"shelf": selectors.for_shopper(context["request"].user)}


@register.inclusion_tag("recommendations/_shelf.html")
def cart_shelf(cart):
    """"Frequently bought with items in your cart"."""
    return {"shelf": selectors.for_cart(line.product.pk for line in cart.lines)}


@register.inclusion_tag("recommendations/_bought_together.html", takes_context=True)
def bought_together(context, product):
    """"Frequently bought together" with its one "Add all to cart" form; nothing without a bundle."""
    return {"bundle": selectors.frequently_bought_together(product), "csrf_token": context.get("csrf_token")}
