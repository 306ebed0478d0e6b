"""Review moves here from the catalog app: state only, the table stays ``catalog_review``.

The content type is renamed with it, so staff keep the review permissions
they were given and the admin's history of each review stays attached.
"""
import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


def rename_content_type(apps, schema_editor, old="catalog", new="reviews"):
    ContentType = apps.get_model("contenttypes", "ContentType")
    if not ContentType.objects.filter(app_label=new, model="review").exists():
        ContentType.objects.filter(app_label=old, model="review").update(app_label=new)


def restore_content_type(apps, schema_editor):
    rename_content_type(apps, schema_editor, old="reviews", new="catalog")


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ("catalog", "0006_reviews"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Review",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("rating", models.PositiveSmallIntegerField(validators=[django.core.validators.MinValueValidator(1), django.core.validators.MaxValueValidator(5)])),
                        ("title", models.CharField(blank=True, max_length=120)),
                        ("body", models.TextField(max_length=5000)),
                        ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
                        ("product", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name="reviews", to="catalog.product")),
                        ("user", models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name="reviews", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={
                        "db_table": "catalog_review",
                        "ordering": ["-created_at", "-id"],
                        "indexes": [models.Index(fields=["product", "-created_at", "-id"], name="review_product_newest")],
                        "constraints": [
                            models.UniqueConstraint(fields=("product", "user"), name="review_one_per_shopper"),
                            models.CheckConstraint(condition=models.Q(("rating__gte", 1), ("rating__lte", 5)), name="review_rating_1_to_5"),
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RunPython(rename_content_type, restore_content_type, elidable=True),
    ]
