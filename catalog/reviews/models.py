from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from catalog.models import Product


class Review(models.Model):
    """A shopper's rating and words about a product they received; one each.

    Written only by ``catalog.reviews.services.add_review``, which keeps the
    product's ``rating`` and ``review_count`` in step in the same transaction.
    """

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="reviews", db_index=False)
    # PROTECT: a deleted reviewer would leave the product's average counting a review that is gone.
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="reviews")
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    title = models.CharField(max_length=120, blank=True)
    body = models.TextField(max_length=5000)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        # The table the model had in the catalog app (moved state-only, see migrations).
        db_table = "catalog_review"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "user"], name="review_one_per_shopper"),
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="review_rating_1_to_5"),
        ]
        # The product page lists a product's reviews newest first.
        indexes = [models.Index(fields=["product", "-created_at", "-id"], name="review_product_newest")]

    def __str__(self):
        return f"{self.rating}★ {self.product_id} by {self.user_id}"
