"""Products keep their ratings split by stars (``stars_1`` … ``stars_5``), adding up to ``review_count``.

Existing ratings came as an average and a count: each product's ratings are
split between the two whole stars around its average (4.3 over 10: seven
fours, three fives), in one statement. Products with written reviews then get
their reviews' own stars plus that split of the ratings before them. The
constraint comes last, once every row adds up.
"""
import math

from django.db import migrations, models
from django.db.models import Case, Count, F, Value, When
from django.db.models.functions import Floor, Greatest, Least
from django.db.models.lookups import Exact

STARS = (1, 2, 3, 4, 5)


def split_around(count, average):
    """The statement's arithmetic in Python, for the products with written reviews."""
    average = min(max(float(average), 1.0), 5.0)
    low = math.floor(average)
    high_count = math.floor(count * (average - low) + 0.5)
    counts = dict.fromkeys(STARS, 0)
    counts[low] += count - high_count
    if high_count:
        counts[low + 1] += high_count
    return counts


def split_ratings(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    Review = apps.get_model("reviews", "Review")
    average = Least(Greatest(F("rating"), Value(1)), Value(5), output_field=models.DecimalField())
    low = Floor(average, output_field=models.IntegerField())
    high_count = Floor(F("review_count") * (average - low) + Value(0.5), output_field=models.IntegerField())
    Product.objects.filter(review_count__gt=0).update(
        **{
            f"stars_{stars}": Case(
                When(Exact(low, stars), then=F("review_count") - high_count),
                When(Exact(low, stars - 1), then=high_count),
                default=Value(0),
                output_field=models.PositiveIntegerField(),
            )
            for stars in STARS
        }
    )
    reviewed = Product.objects.filter(pk__in=Review.objects.values("product_id"))
    for product in reviewed.only("rating", "rating_total", "review_count").iterator():
        written = dict(
            Review.objects.filter(product=product).values_list("rating").annotate(n=Count("pk")).order_by()
        )
        before = product.review_count - sum(written.values())
        total = product.rating_total if product.rating_total is not None else product.rating * product.review_count
        before_total = total - sum(stars * n for stars, n in written.items())
        counts = split_around(before, before_total / before) if before > 0 else dict.fromkeys(STARS, 0)
        Product.objects.filter(pk=product.pk).update(
            **{f"stars_{stars}": counts[stars] + written.get(stars, 0) for stars in STARS}
        )
    if schema_editor.connection.vendor == "postgresql":
        # Run the deferred triggers the updates queued: PostgreSQL alters no table with some pending.
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")


def star_field(stars):
    field = models.PositiveIntegerField(default=0, editable=False)
    field.set_attributes_from_name(f"stars_{stars}")
    return field


def add_columns(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    if schema_editor.connection.vendor == "postgresql":
        # The split rewrites every product and the constraint reads them all: no request-sized timeout.
        schema_editor.execute("SET LOCAL statement_timeout = 0")
    for stars in STARS:
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(
                f'ALTER TABLE catalog_product ADD COLUMN "stars_{stars}" integer unsigned NOT NULL DEFAULT 0 '
                f'CHECK ("stars_{stars}" >= 0)'
            )
        else:
            schema_editor.add_field(Product, star_field(stars))


def drop_columns(apps, schema_editor):
    Product = apps.get_model("catalog", "Product")
    for stars in STARS:
        if schema_editor.connection.vendor == "sqlite":
            schema_editor.execute(f'ALTER TABLE catalog_product DROP COLUMN "stars_{stars}"')
        else:
            schema_editor.remove_field(Product, star_field(stars))


STAR_COUNTS_ADD_UP = models.CheckConstraint(
    condition=models.Q(review_count=F("stars_1") + F("stars_2") + F("stars_3") + F("stars_4") + F("stars_5")),
    name="product_star_counts_add_up",
)


def add_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.add_constraint(apps.get_model("catalog", "Product"), STAR_COUNTS_ADD_UP)


def drop_constraint(apps, schema_editor):
    if schema_editor.connection.vendor != "sqlite":
        schema_editor.remove_constraint(apps.get_model("catalog", "Product"), STAR_COUNTS_ADD_UP)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0010_inventory_unreserved_index"),
        ("reviews", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="product",
                    name=f"stars_{stars}",
                    field=models.PositiveIntegerField(default=0, editable=False),
                )
                for stars in STARS
            ],
            database_operations=[migrations.RunPython(add_columns, drop_columns)],
        ),
        migrations.RunPython(split_ratings, migrations.RunPython.noop, elidable=True),
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddConstraint(model_name="product", constraint=STAR_COUNTS_ADD_UP)],
            database_operations=[migrations.RunPython(add_constraint, drop_constraint)],
        ),
    ]
