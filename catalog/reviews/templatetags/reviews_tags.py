"""The reviews section of the product page, composed by its template so the catalog need not know reviews."""
from django import template

from .. import selectors
from ..forms import ReviewForm

register = template.Library()


@register.inclusion_tag("reviews/_reviews.html", takes_context=True)
def product_reviews(context, product):
    """A page of the product's reviews and the form, or why the visitor may not write one.

    After a refused review the page holds that form (``review_form``), errors and all.
    """
    request = context["request"]
    form = context.get("review_form")
    return {
        "product": product,
        "reviews": selectors.product_reviews(product.pk, request.GET.get("reviews_page")),
        "review_refusal": selectors.review_refusal(request.user, product.pk),
        "review_form": ReviewForm() if form is None else form,
        "user": request.user,
        "request": request,
    }
