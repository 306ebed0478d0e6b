"""Products get a SKU, the stable key a catalog feed names them by; bulk writes may keep the search projection themselves.

* ``sku``: unique, null for products made before feeds (and by hand in the
  admin, until staff give one). Adding a nullable column rewrites nothing.
* ``catalog_search_document_parts``: the weighted document from its four texts
  already split and with their joined forms; ``catalog_search_document`` now
  computes those texts and calls it, so the weights live in one place. The
  catalog import computes the texts in Python (``ProductRow.document_parts``).
* The projection's row triggers skip a transaction that set
  ``catalog.bulk_write`` (``SET LOCAL``): the import then writes the projection
  set-based, which a trigger firing per product cannot (see
  catalog/importing/load.py). Every other writer is unchanged.
* Likewise the stock insert trigger skips the statement that sets
  ``catalog.in_stock_known`` around it: ``catalog.stock.add_first_stock``,
  whose products were written with ``in_stock`` already right.
"""
from django.db import migrations, models

BULK_WRITE_OFF = "current_setting('catalog.bulk_write', true) IS DISTINCT FROM 'on'"
IN_STOCK_UNKNOWN = "current_setting('catalog.in_stock_known', true) IS DISTINCT FROM 'on'"

POSTGRES = [
    """
    CREATE OR REPLACE FUNCTION catalog_search_document_parts(head text, named_for text, named text, body text)
    RETURNS tsvector LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
      SELECT setweight(to_tsvector('english', head), 'A') || setweight(to_tsvector('english', named_for), 'B') ||
             setweight(to_tsvector('english', named), 'C') || setweight(to_tsvector('english', body), 'D')
    $$
    """,
    """
    CREATE OR REPLACE FUNCTION catalog_search_document(title text, brand text, attribute_text text, description text)
    RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
    DECLARE
      head text := catalog_search_title_head(coalesce(title, ''));
      tail text := catalog_search_title_for(coalesce(title, ''));
      named text := coalesce(attribute_text, '');
      body text := coalesce(description, '');
    BEGIN
      RETURN catalog_search_document_parts(head || ' ' || catalog_search_variants(head),
                                           coalesce(brand, '') || ' ' || tail || ' ' || catalog_search_variants(tail),
                                           named || ' ' || catalog_search_variants(named),
                                           body || ' ' || catalog_search_variants(body));
    END $$
    """,
    "DROP TRIGGER catalog_product_search_upsert ON catalog_product",
    f"""CREATE TRIGGER catalog_product_search_upsert
       AFTER INSERT OR UPDATE OF title, description, brand_id, category_id, attributes, is_active
       ON catalog_product FOR EACH ROW WHEN ({BULK_WRITE_OFF}) EXECUTE FUNCTION catalog_product_search_upsert()""",
    "DROP TRIGGER catalog_product_search_facets ON catalog_product",
    f"""CREATE TRIGGER catalog_product_search_facets
       AFTER UPDATE OF price, rating, review_count, in_stock, created_at ON catalog_product
       FOR EACH ROW WHEN ({BULK_WRITE_OFF}) EXECUTE FUNCTION catalog_product_search_facets()""",
    "DROP TRIGGER catalog_inventory_in_stock_insert ON catalog_inventory",
    f"""CREATE TRIGGER catalog_inventory_in_stock_insert AFTER INSERT ON catalog_inventory
       REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT WHEN ({IN_STOCK_UNKNOWN})
       EXECUTE FUNCTION catalog_refresh_in_stock()""",
]

POSTGRES_REVERSE = [
    "DROP TRIGGER catalog_product_search_upsert ON catalog_product",
    """CREATE TRIGGER catalog_product_search_upsert
       AFTER INSERT OR UPDATE OF title, description, brand_id, category_id, attributes, is_active
       ON catalog_product FOR EACH ROW EXECUTE FUNCTION catalog_product_search_upsert()""",
    "DROP TRIGGER catalog_product_search_facets ON catalog_product",
    """CREATE TRIGGER catalog_product_search_facets
       AFTER UPDATE OF price, rating, review_count, in_stock, created_at ON catalog_product
       FOR EACH ROW EXECUTE FUNCTION catalog_product_search_facets()""",
    "DROP TRIGGER catalog_inventory_in_stock_insert ON catalog_inventory",
    """CREATE TRIGGER catalog_inventory_in_stock_insert AFTER INSERT ON catalog_inventory
       REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_refresh_in_stock()""",
    # catalog_search_document keeps calling the parts function, which stays: same vectors.
]

SKU = models.CharField(
    max_length=64,
    unique=True,
    null=True,
    blank=True,
    help_text="The stock keeping unit: the product's key in catalog feeds (manage.py import_catalog).",
)


def add_sku(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        # Django would rebuild the table, and SQLite drops a table's triggers with it.
        schema_editor.execute('ALTER TABLE catalog_product ADD COLUMN "sku" varchar(64) NULL')
        schema_editor.execute('CREATE UNIQUE INDEX "catalog_product_sku_key" ON catalog_product ("sku")')
        return
    schema_editor.execute("SET LOCAL statement_timeout = 0")  # the unique index reads every product
    field = SKU.clone()
    field.set_attributes_from_name("sku")
    schema_editor.add_field(apps.get_model("catalog", "Product"), field)
    for statement in POSTGRES:
        schema_editor.execute(statement, params=None)


def drop_sku(apps, schema_editor):
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute('DROP INDEX "catalog_product_sku_key"')
        schema_editor.execute('ALTER TABLE catalog_product DROP COLUMN "sku"')
        return
    for statement in POSTGRES_REVERSE:
        schema_editor.execute(statement, params=None)
    field = SKU.clone()
    field.set_attributes_from_name("sku")
    schema_editor.remove_field(apps.get_model("catalog", "Product"), field)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0011_rating_counts")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AddField(model_name="product", name="sku", field=SKU)],
            database_operations=[migrations.RunPython(add_sku, drop_sku)],
        ),
    ]
