"""Read paths of reviews: a product's reviews, and whether a shopper may write one."""
from django.conf import settings
from django.core.paginator import Page, Paginator

from catalog.pagination import page_or_first
from orders.selectors import has_received, received_by

from .models import Review

NOT_RECEIVED = "Only customers who received this product can review it."
ALREADY_REVIEWED = "You reviewed this product."

# The review list's orders (the ``reviews_sort`` parameter): label, ordering.
REVIEW_SORTS = {
    "newest": ("Newest", ["-created_at", "-id"]),
    "highest": ("Highest rating", ["-rating", "-created_at", "-id"]),
    "lowest": ("Lowest rating", ["rating", "-created_at", "-id"]),
}
DEFAULT_REVIEW_SORT = "newest"


def normalise_review_sort(sort) -> str:
    """The sort asked for, or newest first for anything else (a stale or mistyped link)."""
    return sort if sort in REVIEW_SORTS else DEFAULT_REVIEW_SORT


def product_reviews(product_id, page_number, sort=DEFAULT_REVIEW_SORT) -> Page:
    """One page of a product's reviews in the sort's order; a page that does not exist shows the first.

    Each review says whether its author received the product (``verified``),
    read for the page's authors in one query.
    """
    ordering = REVIEW_SORTS[normalise_review_sort(sort)][1]
    reviews = Review.objects.filter(product_id=product_id).select_related("user").order_by(*ordering)
    page = page_or_first(Paginator(reviews, settings.CATALOG_REVIEWS_PAGE_SIZE), page_number)
    page.object_list = list(page.object_list)
    verified = received_by({review.user_id for review in page.object_list}, product_id) if page.object_list else set()
    for review in page.object_list:
        review.verified = review.user_id in verified
    return page


def review_refusal(user, product_id) -> str | None:
    """Why the shopper may not review the product, or None when they may.

    One review per shopper and product, and only from shoppers who received
    it; ``services.add_review`` asks again under the product's lock.
    """
    if user.is_authenticated and Review.objects.filter(product_id=product_id, user=user).exists():
        return ALREADY_REVIEWED
    if not has_received(user, product_id):
        return NOT_RECEIVED
    return None
