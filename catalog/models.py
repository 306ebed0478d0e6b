"""The catalog: who sells what, where it is stocked, and how it is organised.

Other apps read the catalog through ``catalog.selectors`` and change it through
``catalog.services``; stock arithmetic lives in one place so that the rules
(``0 <= reserved <= quantity``) are enforced both in code and by the database.
"""
import re

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify


class Seller(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Brand(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=200, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class Category(models.Model):
    """A node of the category tree; products may sit at any level.

    The tree is small (tens to a few thousand nodes) and read on every page,
    so ``catalog.selectors.category_tree`` holds it in the cache instead of
    storing paths in every row.
    """

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=200, unique=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among its siblings.")

    class Meta:
        ordering = ["position", "name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("category", args=[self.slug])

    def clean(self):
        ancestor = self.parent
        while ancestor is not None:
            if ancestor.pk == self.pk:
                raise ValidationError({"parent": "A category cannot be placed under itself or its descendants."})
            ancestor = ancestor.parent


def product_slug(title):
    """The readable part of a product URL; ids identify products, not slugs."""
    return slugify(title)[:200].strip("-") or "product"


class Product(models.Model):
    seller = models.ForeignKey(Seller, on_delete=models.PROTECT, related_name="products")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    brand = models.ForeignKey(Brand, on_delete=models.PROTECT, related_name="products")
    title = models.CharField(max_length=500)
    sku = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        help_text="The stock keeping unit: the product's key in catalog feeds (manage.py import_catalog).",
    )
    slug = models.SlugField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(0)])
    image = models.ImageField(upload_to="products/%Y/%m/", blank=True)
    attributes = models.JSONField(default=dict, blank=True)
    rating = models.DecimalField(
        max_digits=2,
        decimal_places=1,
        default=0,
        validators=[MinValueValidator(0), MaxValueValidator(5)],
    )
    review_count = models.PositiveIntegerField(default=0)
    # The stars behind ``rating``, kept exact so that averaging never drifts
    # (a one-decimal average cannot absorb the 81st review; see
    # catalog.reviews.services.add_review). Null until the first review is written:
    # seeded or imported ratings come without Review rows, so the first review
    # starts the sum at rating × review_count.
    rating_total = models.DecimalField(max_digits=12, decimal_places=1, null=True, blank=True, editable=False)
    # The same ratings as ``review_count``, split by stars (the product page's
    # histogram); a constraint keeps them adding up. See catalog/ratings.py.
    stars_5 = models.PositiveIntegerField(default=0, editable=False)
    stars_4 = models.PositiveIntegerField(default=0, editable=False)
    stars_3 = models.PositiveIntegerField(default=0, editable=False)
    stars_2 = models.PositiveIntegerField(default=0, editable=False)
    stars_1 = models.PositiveIntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    # Written by database triggers on the stock rows (see migration 0003):
    # true while any warehouse has an unreserved unit. Search filters on it.
    in_stock = models.BooleanField(default=False, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    # Indexed: the search index sync reads what changed recently.
    updated_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(price__gte=0), name="product_price_non_negative"),
            models.CheckConstraint(
                condition=Q(rating__gte=0) & Q(rating__lte=5), name="product_rating_0_to_5"
            ),
            models.CheckConstraint(
                condition=Q(review_count=F("stars_1") + F("stars_2") + F("stars_3") + F("stars_4") + F("stars_5")),
                name="product_star_counts_add_up",
            ),
        ]
        # Browse pages filter active products of a set of categories and sort by
        # one key with id as tie-breaker; each sort gets a partial index that
        # answers it without touching inactive rows.
        indexes = [
            models.Index(
                fields=["category", "-created_at", "-id"],
                condition=Q(is_active=True),
                name="product_browse_newest",
            ),
            models.Index(
                fields=["category", "price", "id"],
                condition=Q(is_active=True),
                name="product_browse_price",
            ),
            models.Index(
                fields=["category", "-rating", "-review_count", "id"],
                condition=Q(is_active=True),
                name="product_browse_rating",
            ),
            models.Index(
                fields=["-rating", "-review_count"],
                condition=Q(is_active=True),
                name="product_featured",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        if not self.slug:
            self.slug = product_slug(self.title)
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        if not self.slug:
            return reverse("product-short", args=[self.pk])
        return reverse("product", args=[self.pk, self.slug])


class Warehouse(models.Model):
    code = models.CharField(max_length=20, unique=True)
    name = models.CharField(max_length=200)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} — {self.name}"


class Inventory(models.Model):
    """Stock of one product in one warehouse.

    ``reserved`` counts units held by carts; what can still be sold is
    ``quantity - reserved``. The database refuses any row outside
    ``0 <= reserved <= quantity``, whatever code path writes it.
    """

    # No separate index: the (product, warehouse) unique constraint leads with product.
    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="inventory", db_index=False)
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, related_name="inventory")
    quantity = models.IntegerField(default=0, validators=[MinValueValidator(0)])
    reserved = models.IntegerField(default=0, validators=[MinValueValidator(0)])

    class Meta:
        verbose_name_plural = "inventory"
        constraints = [
            models.UniqueConstraint(fields=["product", "warehouse"], name="inventory_product_warehouse_unique"),
            models.CheckConstraint(condition=Q(quantity__gte=0), name="inventory_quantity_non_negative"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="inventory_reserved_non_negative"),
            models.CheckConstraint(
                condition=Q(reserved__lte=F("quantity")), name="inventory_reserved_within_quantity"
            ),
        ]
        # The staff dashboard's low stock: the rows nearly empty, without reading the others.
        indexes = [models.Index(F("quantity") - F("reserved"), name="inventory_unreserved")]

    def __str__(self):
        return f"{self.product_id} @ {self.warehouse.code}: {self.quantity} ({self.reserved} reserved)"


class SearchTerm(models.Model):
    """A word of the active catalog's text: for "did you mean" suggestions, and
    to tell a finished search word from one still being typed.

    Rebuilt by ``catalog.search.suggestions.refresh_search_terms`` (nightly and
    after seeding); on PostgreSQL a trigram index finds the closest word.
    """

    word = models.CharField(max_length=100, primary_key=True)
    products = models.PositiveIntegerField(default=0, help_text="Active products whose text has the word.")

    def __str__(self):
        return self.word


class AttributeFacet(models.Model):
    """A product attribute that shoppers filter by in a category and below it.

    Declared per category in the admin (a department's "Color", "Size");
    descendants inherit it, and a nearer declaration of the same attribute
    overrides a farther one (its label and value order win).
    """

    category = models.ForeignKey(Category, on_delete=models.CASCADE, related_name="attribute_facets")
    key = models.CharField(
        max_length=100, help_text="The attribute's name in products' attributes, exactly (e.g. “color”)."
    )
    label = models.CharField(max_length=100, help_text="What shoppers see above the values (e.g. “Colour”).")
    position = models.PositiveSmallIntegerField(default=0, help_text="Order among the category's facets.")
    value_order = models.TextField(
        blank=True,
        help_text="Optional: values in the order shown, one per line (e.g. sizes XS, S, M, L). "
        "Values not listed follow, most frequent first.",
    )

    class Meta:
        ordering = ["category", "position", "label"]
        constraints = [models.UniqueConstraint(fields=["category", "key"], name="attribute_facet_unique_key")]

    def __str__(self):
        return f"{self.category}: {self.label}"

    @property
    def ordered_values(self) -> list[str]:
        return [line.strip() for line in self.value_order.splitlines() if line.strip()]


class SearchSynonym(models.Model):
    """Words and phrases search treats as the same (“tv, television”), edited by staff."""

    terms = models.CharField(
        max_length=500,
        unique=True,
        help_text="Two or more words or two-word phrases, separated by commas: each finds what the others find.",
    )

    class Meta:
        ordering = ["terms"]

    def __str__(self):
        return self.terms

    @property
    def phrases(self) -> list[str]:
        return [" ".join(part.lower().split()) for part in self.terms.split(",") if part.strip()]

    def clean(self):
        phrases = self.phrases
        if len(phrases) < 2:
            raise ValidationError({"terms": "List at least two words or phrases, separated by commas."})
        for phrase in phrases:
            if len(re.findall(r"[^\W_]+", phrase)) > 2:
                raise ValidationError({"terms": f"“{phrase}”: a synonym is one word or a two-word phrase."})
        self.terms = ", ".join(dict.fromkeys(phrases))


class TypeaheadEntry(models.Model):
    """A completion the header's search box can offer: a category, a brand or an active product.

    Rebuilt in one set-based pass by ``catalog.search.typeahead.refresh_typeahead``
    (nightly and after seeding). ``rank`` is the order of popularity (categories and
    brands by active products, products by reviews), assigned at the rebuild so a
    lookup reads entries in index order and stops after the first few that match.
    """

    class Kind(models.TextChoices):
        PRODUCT = "product"
        BRAND = "brand"
        CATEGORY = "category"

    rank = models.PositiveIntegerField(primary_key=True)
    kind = models.CharField(max_length=8, choices=Kind.choices)
    label = models.CharField(max_length=500)
    target_id = models.PositiveIntegerField(help_text="The product's, brand's or category's id.")
    slug = models.CharField(max_length=200, blank=True)
    popularity = models.PositiveIntegerField(default=0)
    # The label's words, lowercased, each after one space (" wireless earbuds"):
    # "words beginning with w" is then LIKE '% w%'.
    words = models.CharField(max_length=600)

    class Meta:
        indexes = [models.Index(fields=["kind", "rank"], name="typeahead_kind_rank")]
        verbose_name_plural = "typeahead entries"

    def __str__(self):
        return self.label

