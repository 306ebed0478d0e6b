"""The reviews section of the product page, composed by its template so the catalog need not know reviews."""
from django import template

from catalog.ratings import histogram

from .. import selectors
from ..forms import ReviewForm

register = template.Library()


@register.inclusion_tag("reviews/_reviews.html", takes_context=True)
def product_reviews(context, product):
    """The product's ratings by stars, a page of its written reviews in the order asked for, and
    the form, or why the visitor may not write one.

    The histogram counts every rating (``review_count``), the list only the
    ratings that came with words: the two counts are told apart on the page.
    After a refused review the page holds that form (``review_form``), errors and all.
    """
    request = context["request"]
    form = context.get("review_form")
    sort = selectors.normalise_review_sort(request.GET.get("reviews_sort"))
    return {
        "product": product,
        "histogram": histogram(product),
        "reviews": selectors.product_reviews(product.pk, request.GET.get("reviews_page"), sort),
        "sort": sort,
        "sorts": [(key, label) for key, (label, _) in selectors.REVIEW_SORTS.items()],
        "sort_query": "" if sort == selectors.DEFAULT_REVIEW_SORT else f"reviews_sort={sort}&",
        "review_refusal": selectors.review_refusal(request.user, product.pk),
        "review_form": ReviewForm() if form is None else form,
        "user": request.user,
        "request": request,
    }
