"""A trigram index on product titles, on PostgreSQL only.

It turns ``title ILIKE '%word%'`` (staff search, title search) from a scan of
every product into an index lookup. SQLite has no equivalent and does not need
one at its scale.
"""
from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS catalog_product_title_trgm ON catalog_product USING gin (title gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS catalog_product_title_trgm"]


def run(statements):
    def apply(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return apply


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [migrations.RunPython(run(CREATE), run(DROP))]
