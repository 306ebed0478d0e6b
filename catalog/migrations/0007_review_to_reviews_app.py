"""Review now belongs to the ``reviews`` app (catalog/reviews/): the model leaves
this app's state only; its table ``catalog_review`` stays where it is."""
from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0006_reviews"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Review")],
            database_operations=[],
        ),
    ]
