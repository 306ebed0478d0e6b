"""Read paths of reviews: a product's reviews, and whether a shopper may write one."""
from django.conf import settings
from django.core.paginator import Page, Paginator

from catalog.pagination import page_or_first
from orders.selectors import has_received

from .models import Review

NOT_RECEIVED = "Only customers who received this product can review it."
ALREADY_REVIEWED = "You reviewed this product."


def product_reviews(product_id, page_number) -> Page:
    """One page of a product's reviews, newest first; a page that does not exist shows the first."""
    reviews = Review.objects.filter(product_id=product_id).select_related("user").order_by("-created_at", "-id")
    return page_or_first(Paginator(reviews, settings.CATALOG_REVIEWS_PAGE_SIZE), page_number)


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
