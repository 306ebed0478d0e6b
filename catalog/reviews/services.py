"""Write path of reviews: posting one and folding its stars into the product's rating."""
from decimal import ROUND_HALF_UP, Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from catalog.models import Product
from catalog.ratings import star_field

from .models import Review
from .selectors import review_refusal


class ReviewError(Exception):
    """A review the store refuses; the message says why, for the shopper."""


@transaction.atomic
def add_review(*, user, product_id, rating: int, title: str, body: str) -> Review:
    """Post a shopper's review and fold its stars into the product's rating.

    The product row is locked first (FOR NO KEY UPDATE: carts and orders may
    still reference it meanwhile), so concurrent reviews of a product queue
    up and none overwrites another's count, and a shopper's double submit
    finds the first review. ``rating`` is rounded half up to one decimal from
    the exact ``rating_total``; ratings that came without Review rows (the
    seeded catalog) count as earlier reviews: the total starts at
    rating × review_count. The review's star joins the product's split by
    stars in the same update, so the histogram always adds up to the count.
    """
    product = (
        Product.objects.select_for_update(no_key=True)
        .only("rating", "review_count", "rating_total")
        .filter(pk=product_id, is_active=True)
        .first()
    )
    if product is None:
        raise ReviewError("This product is no longer sold.")
    if refusal := review_refusal(user, product_id):
        raise ReviewError(refusal)
    review = Review.objects.create(product=product, user=user, rating=rating, title=title, body=body)
    earlier = product.rating_total if product.rating_total is not None else product.rating * product.review_count
    total, count = earlier + rating, product.review_count + 1
    Product.objects.filter(pk=product_id).update(
        rating=(total / count).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP),
        rating_total=total,
        review_count=count,
        **{star_field(rating): F(star_field(rating)) + 1},
        updated_at=timezone.now(),
    )
    return review
