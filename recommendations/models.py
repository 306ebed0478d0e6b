"""Precomputed recommendations, one generation ("run") at a time.

A run writes all its rows and then becomes the current run in the same
transaction; readers only ever read rows of the current run, through one
statement that finds it, so they see the old lists or the new ones, never a
mix. Rows of older runs are deleted after the switch.

No column carries a database foreign key or an index of its own: millions of
rows are inserted per run and a constraint check per row would cost more than
the insert. Products are deactivated rather than deleted, and readers skip
inactive ones; old runs are deleted by ``services``, rows first. The primary
keys lead with the run, which serves its lookups.
"""
from django.db import models
from django.db.models import Q
from django.utils import timezone


def _reference(to, on_delete=models.DO_NOTHING):
    """A foreign key without a database constraint or an index (see above)."""
    return models.ForeignKey(to, on_delete=on_delete, db_constraint=False, db_index=False, related_name="+")


class Run(models.Model):
    """One computation of every list, with what it used and what it cost."""

    started_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)
    is_current = models.BooleanField(default=False)
    baskets = models.PositiveIntegerField(default=0, help_text="Paid orders used.")
    skipped_orders = models.PositiveIntegerField(default=0, help_text="Paid orders over the item cap, not used.")
    pairs = models.PositiveBigIntegerField(default=0, help_text="Product pairs bought together often enough to count.")
    products = models.PositiveIntegerField(default=0, help_text="Products with an also-bought list.")
    bestsellers = models.JSONField(default=list, help_text="Product ids of the global bestsellers, best first.")
    prior = models.JSONField(
        default=list, help_text="[product id, share, share in baskets of 2, 3, 4+] of the largest shares, best first."
    )
    timings = models.JSONField(default=dict, help_text="Seconds per step.")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["is_current"], condition=Q(is_current=True), name="recs_one_current_run")
        ]

    def __str__(self):
        return f"Run {self.pk} ({self.started_at:%Y-%m-%d %H:%M})"


class Recommendation(models.Model):
    """One entry of a product's "customers who bought this also bought" list."""

    # The primary key is the readers' lookup: a product's list of a run, in order.
    pk = models.CompositePrimaryKey("run", "product", "rank")
    run = _reference(Run, on_delete=models.CASCADE)
    product = _reference("catalog.Product")
    rank = models.PositiveSmallIntegerField()
    recommended = _reference("catalog.Product")
    score = models.FloatField(help_text="Confidence: how often the recommended product is added where this one is.")
    co_count = models.PositiveIntegerField()
    computed_at = models.DateTimeField()

    def __str__(self):
        return f"{self.product_id} → {self.recommended_id} ({self.score:.3f})"


class Popularity(models.Model):
    """A product's share of what shoppers add to baskets (``scoring``): what the
    shelves rank a product by where no list of the cart's products holds it."""

    pk = models.CompositePrimaryKey("run", "product")
    run = _reference(Run, on_delete=models.CASCADE)
    product = _reference("catalog.Product")
    baskets = models.FloatField(help_text="Baskets of two or more products holding it, weighted by age.")
    share = models.FloatField()
    share_2 = models.FloatField(help_text="Share in baskets of 2 products.")
    share_3 = models.FloatField(help_text="Share in baskets of 3 products.")
    share_4 = models.FloatField(help_text="Share in baskets of 4 or more products.")

    class Meta:
        verbose_name_plural = "popularity"

    def __str__(self):
        return f"{self.product_id}: {self.share:.5f}"


class CategoryBestseller(models.Model):
    """What sells most in a category and everything below it: the list of a product nobody bought yet."""

    pk = models.CompositePrimaryKey("run", "category", "rank")
    run = _reference(Run, on_delete=models.CASCADE)
    category = _reference("catalog.Category")
    rank = models.PositiveSmallIntegerField()
    product = _reference("catalog.Product")
    orders = models.PositiveIntegerField(help_text="Paid orders holding the product.")

    def __str__(self):
        return f"{self.category_id} #{self.rank}: {self.product_id}"
