"""Search sees attributes and joined forms; facets per category; staff synonyms.

* The PostgreSQL projection gains ``sample`` (a hash bucket of the id, with
  partial full-text indexes of the rows below 64, 16, 4 and 1 of 256: large
  match sets are counted in a fixed share of their rows), ``attrs`` ("key=value" of each attribute,
  GIN-indexed: attribute facets filter and count on it) and a richer
  ``document``: what the title says the product is, with its kind once more
  (A); the brand and what the title says it is for, "Case for Nova Phone" (B);
  attribute values (C); the description (D); each with its joined forms
  ("64 GB" is also ``64gb``, "T-Shirt" also ``tshirt``). The SQL functions
  ``catalog_search_*`` are ``catalog.search.analysis``' rules.
  Category changes now rebuild the row as well (the facet trigger no longer
  needs to follow them).
* SQLite's FTS5 table gets an ``attributes`` column and the same joined
  forms, through a Python function the app registers on each connection.
"""
from django.db import migrations, models

from catalog.search.analysis import postgres_variants_sql

# The weighted document, its title split and joined forms computed once per
# row (PL/pgSQL: as a SQL function with a FROM clause it was planned for every
# row, five times slower).
DOCUMENT_FUNCTION = """
CREATE OR REPLACE FUNCTION catalog_search_document(title text, brand text, attribute_text text, description text)
RETURNS tsvector LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
  head text := catalog_search_title_head(coalesce(title, ''));
  tail text := catalog_search_title_for(coalesce(title, ''));
  named text := coalesce(attribute_text, '');
  body text := coalesce(description, '');
BEGIN
  RETURN setweight(to_tsvector('english', head || ' ' || catalog_search_variants(head)), 'A') ||
         setweight(to_tsvector('english', coalesce(brand, '') || ' ' || tail || ' ' || catalog_search_variants(tail)), 'B') ||
         setweight(to_tsvector('english', named || ' ' || catalog_search_variants(named)), 'C') ||
         setweight(to_tsvector('english', body || ' ' || catalog_search_variants(body)), 'D');
END $$
"""
DOCUMENT = (
    "catalog_search_document(NEW.title, (SELECT name FROM catalog_brand WHERE id = NEW.brand_id), "
    "attribute_text, NEW.description)"
)

POSTGRES = [
    postgres_variants_sql(),
    DOCUMENT_FUNCTION,
    "ALTER TABLE catalog_product_search ADD COLUMN attrs text[] NOT NULL DEFAULT '{}'",
    # A fixed pseudo-random bucket per product (0-255): facets of a large
    # match set are counted in the rows below a level, through these indexes.
    """ALTER TABLE catalog_product_search
       ADD COLUMN sample smallint GENERATED ALWAYS AS ((hashint8(id) & 255)::smallint) STORED""",
    f"""
    CREATE OR REPLACE FUNCTION catalog_product_search_upsert() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      attribute_text text := (SELECT string_agg(value, ' ') FROM jsonb_each_text(NEW.attributes));
    BEGIN
      IF NOT NEW.is_active THEN
        DELETE FROM catalog_product_search WHERE id = NEW.id;
        RETURN NULL;
      END IF;
      INSERT INTO catalog_product_search AS s
             (id, category_id, brand_id, price, rating, review_count, in_stock, created_at, attrs, document)
      VALUES (NEW.id, NEW.category_id, NEW.brand_id, NEW.price, NEW.rating, NEW.review_count, NEW.in_stock,
              NEW.created_at, ARRAY(SELECT key || '=' || value FROM jsonb_each_text(NEW.attributes) ORDER BY key),
              {DOCUMENT})
      ON CONFLICT (id) DO UPDATE SET
        category_id = EXCLUDED.category_id, brand_id = EXCLUDED.brand_id, price = EXCLUDED.price,
        rating = EXCLUDED.rating, review_count = EXCLUDED.review_count, in_stock = EXCLUDED.in_stock,
        created_at = EXCLUDED.created_at, attrs = EXCLUDED.attrs, document = EXCLUDED.document;
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER catalog_product_search_upsert ON catalog_product",
    """CREATE TRIGGER catalog_product_search_upsert
       AFTER INSERT OR UPDATE OF title, description, brand_id, category_id, attributes, is_active
       ON catalog_product FOR EACH ROW EXECUTE FUNCTION catalog_product_search_upsert()""",
    """
    CREATE OR REPLACE FUNCTION catalog_product_search_facets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE catalog_product_search
         SET price = NEW.price, rating = NEW.rating, review_count = NEW.review_count,
             in_stock = NEW.in_stock, created_at = NEW.created_at
       WHERE id = NEW.id;
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER catalog_product_search_facets ON catalog_product",
    """CREATE TRIGGER catalog_product_search_facets
       AFTER UPDATE OF price, rating, review_count, in_stock, created_at ON catalog_product
       FOR EACH ROW EXECUTE FUNCTION catalog_product_search_facets()""",
    # Rebuild every row in one statement (a row-by-row trigger pass would
    # rewrite every product too), with the projection's secondary indexes
    # dropped and built again after: far cheaper than keeping them current
    # row by row over a large catalog. No request-sized timeout for this.
    "SET LOCAL statement_timeout = 0",
    "SET LOCAL maintenance_work_mem = '256MB'",
    """
    CREATE TEMPORARY TABLE catalog_search_indexes ON COMMIT DROP AS
    SELECT indexname, indexdef FROM pg_indexes
     WHERE tablename = 'catalog_product_search' AND indexname <> 'catalog_product_search_pkey'
    """,
    """DO $$ DECLARE name text; BEGIN
         FOR name IN SELECT indexname FROM catalog_search_indexes LOOP EXECUTE format('DROP INDEX %I', name); END LOOP;
       END $$""",
    f"""
    UPDATE catalog_product_search s
       SET attrs = ARRAY(SELECT key || '=' || value FROM jsonb_each_text(p.attributes) ORDER BY key),
           document = catalog_search_document(p.title, b.name, p.attribute_text, p.description)
      FROM (SELECT p.*, (SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)) AS attribute_text
              FROM catalog_product p) p
      JOIN catalog_brand b ON b.id = p.brand_id
     WHERE s.id = p.id
    """,
    """DO $$ DECLARE definition text; BEGIN
         FOR definition IN SELECT indexdef FROM catalog_search_indexes LOOP EXECUTE definition; END LOOP;
       END $$""",
    "CREATE INDEX catalog_product_search_attrs ON catalog_product_search USING gin (attrs)",
    # Browsing samples through this one (see catalog.search.database, _Postgres.sample_condition).
    "CREATE INDEX catalog_product_search_sample ON catalog_product_search ((sample + 0))",
    *[
        f"CREATE INDEX catalog_product_search_sample_{level} ON catalog_product_search USING gin (document) "
        f"WHERE sample < {level}"
        for level in (64, 16, 4, 1)
    ],
    # Large match sets are ranked among their popular products (catalog.search.vocabulary.POPULAR_REVIEWS).
    *[
        f"CREATE INDEX catalog_product_search_popular_{reviews} ON catalog_product_search USING gin (document) "
        f"WHERE review_count >= {reviews}"
        for reviews in (150, 400)
    ],
    "ANALYZE catalog_product_search",
]

POSTGRES_REVERSE = [
    "DROP INDEX IF EXISTS catalog_product_search_attrs",
    "ALTER TABLE catalog_product_search DROP COLUMN attrs",
    "ALTER TABLE catalog_product_search DROP COLUMN sample",  # its indexes go with it
    # The 0004 functions and triggers come back with that migration's reverse and re-apply.
]

_SQLITE_ATTRIBUTES = "(SELECT group_concat(value, ' ') FROM json_each(NEW.attributes))"
_SQLITE_FTS_INSERT = f"""
    INSERT INTO catalog_product_fts (rowid, title, brand, attributes, description)
    VALUES (NEW.id, catalog_search_title_head(NEW.title) || ' ' || catalog_search_variants(catalog_search_title_head(NEW.title)),
            (SELECT name FROM catalog_brand WHERE id = NEW.brand_id) || ' ' || catalog_search_title_for(NEW.title)
              || ' ' || catalog_search_variants(catalog_search_title_for(NEW.title)),
            coalesce({_SQLITE_ATTRIBUTES}, '') || ' ' || catalog_search_variants(coalesce({_SQLITE_ATTRIBUTES}, '')),
            NEW.description || ' ' || catalog_search_variants(NEW.description));
"""

SQLITE = [
    "DROP TRIGGER IF EXISTS catalog_brand_fts_rename",
    "DROP TRIGGER IF EXISTS catalog_product_fts_delete",
    "DROP TRIGGER IF EXISTS catalog_product_fts_update",
    "DROP TRIGGER IF EXISTS catalog_product_fts_insert",
    "DROP TABLE IF EXISTS catalog_product_fts",
    "CREATE VIRTUAL TABLE catalog_product_fts USING fts5(title, brand, attributes, description, tokenize = 'porter unicode61')",
    f"CREATE TRIGGER catalog_product_fts_insert AFTER INSERT ON catalog_product BEGIN {_SQLITE_FTS_INSERT} END",
    f"""CREATE TRIGGER catalog_product_fts_update AFTER UPDATE OF title, description, brand_id, attributes ON catalog_product
        BEGIN DELETE FROM catalog_product_fts WHERE rowid = OLD.id; {_SQLITE_FTS_INSERT} END""",
    "CREATE TRIGGER catalog_product_fts_delete AFTER DELETE ON catalog_product BEGIN DELETE FROM catalog_product_fts WHERE rowid = OLD.id; END",
    # A renamed brand rewrites its products' rows (the brand column also holds what they are for).
    """CREATE TRIGGER catalog_brand_fts_rename AFTER UPDATE OF name ON catalog_brand BEGIN
        UPDATE catalog_product SET brand_id = brand_id WHERE brand_id = NEW.id; END""",
    f"""INSERT INTO catalog_product_fts (rowid, title, brand, attributes, description)
       SELECT p.id, catalog_search_title_head(p.title) || ' ' || catalog_search_variants(catalog_search_title_head(p.title)),
              b.name || ' ' || catalog_search_title_for(p.title) || ' ' || catalog_search_variants(catalog_search_title_for(p.title)),
              coalesce({_SQLITE_ATTRIBUTES.replace("NEW.", "p.")}, '') || ' ' || catalog_search_variants(coalesce({_SQLITE_ATTRIBUTES.replace("NEW.", "p.")}, '')),
              p.description || ' ' || catalog_search_variants(p.description)
         FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id""",
]


# Common retail synonyms to start from; staff edit them in the admin.
DEFAULT_SYNONYMS = [
    "tv, television", "laptop, notebook computer", "sofa, couch", "earbuds, earphones, in-ear headphones",
    "phone, smartphone, cell phone, mobile phone", "cellphone, cell phone", "fridge, refrigerator",
    "hoodie, hooded sweatshirt", "sneakers, trainers", "pants, trousers", "bike, bicycle", "cologne, eau de toilette",
    "pc, computer", "monitor, display", "couch, settee", "headset, headphones with microphone",
    "running, runner", "cooking, cookware", "kids, children", "tee, t-shirt",
]


def default_synonyms(apps, schema_editor):
    SearchSynonym = apps.get_model("catalog", "SearchSynonym")
    SearchSynonym.objects.bulk_create([SearchSynonym(terms=terms) for terms in DEFAULT_SYNONYMS], ignore_conflicts=True)


def run(statements_by_vendor):
    def apply(apps, schema_editor):
        for statement in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(statement, params=None)

    return apply


class Migration(migrations.Migration):
    dependencies = [("catalog", "0008_typeahead")]

    operations = [
        migrations.CreateModel(
            name="AttributeFacet",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("key", models.CharField(help_text="The attribute's name in products' attributes, exactly (e.g. “color”).", max_length=100)),
                ("label", models.CharField(help_text="What shoppers see above the values (e.g. “Colour”).", max_length=100)),
                ("position", models.PositiveSmallIntegerField(default=0, help_text="Order among the category's facets.")),
                ("value_order", models.TextField(blank=True, help_text="Optional: values in the order shown, one per line (e.g. sizes XS, S, M, L). Values not listed follow, most frequent first.")),
                ("category", models.ForeignKey(on_delete=models.deletion.CASCADE, related_name="attribute_facets", to="catalog.category")),
            ],
            options={
                "ordering": ["category", "position", "label"],
                "constraints": [models.UniqueConstraint(fields=("category", "key"), name="attribute_facet_unique_key")],
            },
        ),
        migrations.CreateModel(
            name="SearchSynonym",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("terms", models.CharField(help_text="Two or more words or two-word phrases, separated by commas: each finds what the others find.", max_length=500, unique=True)),
            ],
            options={"ordering": ["terms"]},
        ),
        migrations.RunPython(
            run({"postgresql": POSTGRES, "sqlite": SQLITE}), run({"postgresql": POSTGRES_REVERSE})
        ),
        migrations.RunPython(default_synonyms, migrations.RunPython.noop),
    ]
