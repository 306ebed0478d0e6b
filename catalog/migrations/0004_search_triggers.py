"""The database keeps the search data current, whatever code path writes.

* ``catalog_product.in_stock`` follows the stock rows (insert, update, delete).
* Full-text data follows title, brand and description:
  - PostgreSQL: ``catalog_product_search``, a narrow projection of the active
    products: what search filters, sorts and counts on, plus a weighted
    ``document`` tsvector (title A, brand B, description C) with a GIN index.
    Search reads only this table: a few dozen bytes a row plus the vector,
    instead of whole product rows, which halves the cost of every match.
  - SQLite: an FTS5 table ``catalog_product_fts`` (porter stemming) whose
    rowid is the product id.

SQLite drops a table's triggers when Django rebuilds the table (most
``AlterField``/``AddField`` migrations on ``catalog_product`` or
``catalog_inventory`` do): such a migration must create them again.
``tests/catalog/test_search_sync.py`` fails if they are missing.
"""
from django.db import migrations

POSTGRES = [
    # --- stock -> in_stock: inserts and deletes are statement-level, so a bulk
    # load costs one UPDATE per statement
    """
    CREATE FUNCTION catalog_refresh_in_stock() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE catalog_product p
         SET in_stock = s.available > 0, updated_at = now()
        FROM (
          SELECT changed.product_id, coalesce(sum(i.quantity - i.reserved), 0) AS available
            FROM (SELECT DISTINCT product_id FROM changed_rows) changed
            LEFT JOIN catalog_inventory i ON i.product_id = changed.product_id
           GROUP BY changed.product_id
        ) s
       WHERE p.id = s.product_id AND p.in_stock IS DISTINCT FROM (s.available > 0);
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER catalog_inventory_in_stock_insert AFTER INSERT ON catalog_inventory
       REFERENCING NEW TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_refresh_in_stock()""",
    # Updates come one row at a time from carts and checkout. A product can
    # only change between in and out of stock when one of its rows does, so
    # the WHEN clause skips the function for almost every reservation.
    """
    CREATE FUNCTION catalog_refresh_in_stock_row() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE catalog_product p
         SET in_stock = s.sellable, updated_at = now()
        FROM (SELECT EXISTS (SELECT 1 FROM catalog_inventory
                              WHERE product_id = NEW.product_id AND quantity > reserved) AS sellable) s
       WHERE p.id = NEW.product_id AND p.in_stock IS DISTINCT FROM s.sellable;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER catalog_inventory_in_stock_update AFTER UPDATE ON catalog_inventory FOR EACH ROW
       WHEN ((OLD.quantity > OLD.reserved) IS DISTINCT FROM (NEW.quantity > NEW.reserved))
       EXECUTE FUNCTION catalog_refresh_in_stock_row()""",
    """CREATE TRIGGER catalog_inventory_in_stock_delete AFTER DELETE ON catalog_inventory
       REFERENCING OLD TABLE AS changed_rows FOR EACH STATEMENT EXECUTE FUNCTION catalog_refresh_in_stock()""",
    # --- full text: the search projection of active products
    """
    CREATE TABLE catalog_product_search (
      id bigint PRIMARY KEY,
      category_id bigint NOT NULL,
      brand_id bigint NOT NULL,
      price numeric(10, 2) NOT NULL,
      rating numeric(2, 1) NOT NULL,
      review_count integer NOT NULL,
      in_stock boolean NOT NULL,
      created_at timestamptz NOT NULL,
      document tsvector NOT NULL
    )
    """,
    """
    CREATE FUNCTION catalog_product_search_upsert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NOT NEW.is_active THEN
        DELETE FROM catalog_product_search WHERE id = NEW.id;
        RETURN NULL;
      END IF;
      INSERT INTO catalog_product_search AS s
             (id, category_id, brand_id, price, rating, review_count, in_stock, created_at, document)
      VALUES (NEW.id, NEW.category_id, NEW.brand_id, NEW.price, NEW.rating, NEW.review_count, NEW.in_stock,
              NEW.created_at,
              setweight(to_tsvector('english', coalesce(NEW.title, '')), 'A') ||
              setweight(to_tsvector('english', coalesce((SELECT name FROM catalog_brand WHERE id = NEW.brand_id), '')), 'B') ||
              setweight(to_tsvector('english', coalesce(NEW.description, '')), 'C'))
      ON CONFLICT (id) DO UPDATE SET
        category_id = EXCLUDED.category_id, brand_id = EXCLUDED.brand_id, price = EXCLUDED.price,
        rating = EXCLUDED.rating, review_count = EXCLUDED.review_count, in_stock = EXCLUDED.in_stock,
        created_at = EXCLUDED.created_at, document = EXCLUDED.document;
      RETURN NULL;
    END $$
    """,
    # Text or visibility changed: rebuild the row (and its vector).
    """CREATE TRIGGER catalog_product_search_upsert AFTER INSERT OR UPDATE OF title, description, brand_id, is_active
       ON catalog_product FOR EACH ROW EXECUTE FUNCTION catalog_product_search_upsert()""",
    # Only facet columns changed (stock, price, ratings): no vector to rebuild.
    """
    CREATE FUNCTION catalog_product_search_facets() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE catalog_product_search
         SET category_id = NEW.category_id, price = NEW.price, rating = NEW.rating,
             review_count = NEW.review_count, in_stock = NEW.in_stock, created_at = NEW.created_at
       WHERE id = NEW.id;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER catalog_product_search_facets
       AFTER UPDATE OF category_id, price, rating, review_count, in_stock, created_at ON catalog_product
       FOR EACH ROW EXECUTE FUNCTION catalog_product_search_facets()""",
    # No foreign key, so that truncating products (test database resets) stays
    # possible: deletes and truncation are followed by these triggers instead.
    """
    CREATE FUNCTION catalog_product_search_delete() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        TRUNCATE catalog_product_search;
      ELSE
        DELETE FROM catalog_product_search WHERE id = OLD.id;
      END IF;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER catalog_product_search_delete AFTER DELETE ON catalog_product
       FOR EACH ROW EXECUTE FUNCTION catalog_product_search_delete()""",
    """CREATE TRIGGER catalog_product_search_truncate AFTER TRUNCATE ON catalog_product
       FOR EACH STATEMENT EXECUTE FUNCTION catalog_product_search_delete()""",
    """
    CREATE FUNCTION catalog_brand_renamed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      UPDATE catalog_product SET brand_id = brand_id WHERE brand_id = NEW.id;
      RETURN NULL;
    END $$
    """,
    """CREATE TRIGGER catalog_brand_renamed AFTER UPDATE OF name ON catalog_brand
       FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION catalog_brand_renamed()""",
    # Backfill rows that existed before this migration.
    "UPDATE catalog_inventory SET quantity = quantity",
    "UPDATE catalog_product SET is_active = is_active",
    "CREATE INDEX catalog_product_search_document ON catalog_product_search USING gin (document)",
    # With a broad query the planner walks one of these orders and stops after
    # a page instead of sorting every match.
    "CREATE INDEX catalog_product_search_price ON catalog_product_search (price, id)",
    "CREATE INDEX catalog_product_search_newest ON catalog_product_search (created_at DESC, id DESC)",
    "CREATE INDEX catalog_product_search_rating ON catalog_product_search (rating DESC, review_count DESC, id)",
    "CREATE INDEX catalog_product_search_popular ON catalog_product_search (review_count DESC, id)",
    # Facet filters: the planner ANDs these bitmaps with the text match, so a
    # brand or department filter reads only the rows that pass both.
    "CREATE INDEX catalog_product_search_category ON catalog_product_search (category_id)",
    "CREATE INDEX catalog_product_search_brand ON catalog_product_search (brand_id)",
]

POSTGRES_REVERSE = [
    "DROP TRIGGER IF EXISTS catalog_brand_renamed ON catalog_brand",
    "DROP FUNCTION IF EXISTS catalog_brand_renamed()",
    "DROP TRIGGER IF EXISTS catalog_product_search_truncate ON catalog_product",
    "DROP TRIGGER IF EXISTS catalog_product_search_delete ON catalog_product",
    "DROP FUNCTION IF EXISTS catalog_product_search_delete()",
    "DROP TRIGGER IF EXISTS catalog_product_search_facets ON catalog_product",
    "DROP FUNCTION IF EXISTS catalog_product_search_facets()",
    "DROP TRIGGER IF EXISTS catalog_product_search_upsert ON catalog_product",
    "DROP FUNCTION IF EXISTS catalog_product_search_upsert()",
    "DROP TABLE IF EXISTS catalog_product_search",
    "DROP TRIGGER IF EXISTS catalog_inventory_in_stock_insert ON catalog_inventory",
    "DROP TRIGGER IF EXISTS catalog_inventory_in_stock_update ON catalog_inventory",
    "DROP TRIGGER IF EXISTS catalog_inventory_in_stock_delete ON catalog_inventory",
    "DROP FUNCTION IF EXISTS catalog_refresh_in_stock()",
    "DROP FUNCTION IF EXISTS catalog_refresh_in_stock_row()",
]

_SQLITE_AVAILABLE = "(SELECT coalesce(sum(quantity - reserved), 0) > 0 FROM catalog_inventory WHERE product_id = {row}.product_id)"
_SQLITE_IN_STOCK = f"""
    UPDATE catalog_product
       SET in_stock = {_SQLITE_AVAILABLE}, updated_at = strftime('%Y-%m-%d %H:%M:%f', 'now')
     WHERE id = {{row}}.product_id AND in_stock IS NOT {_SQLITE_AVAILABLE};
"""
_SQLITE_FTS_INSERT = """
    INSERT INTO catalog_product_fts (rowid, title, brand, description)
    VALUES (NEW.id, NEW.title, (SELECT name FROM catalog_brand WHERE id = NEW.brand_id), NEW.description);
"""

SQLITE = [
    f"CREATE TRIGGER catalog_inventory_in_stock_insert AFTER INSERT ON catalog_inventory BEGIN {_SQLITE_IN_STOCK.format(row='NEW')} END",
    f"CREATE TRIGGER catalog_inventory_in_stock_update AFTER UPDATE ON catalog_inventory BEGIN {_SQLITE_IN_STOCK.format(row='NEW')} END",
    f"CREATE TRIGGER catalog_inventory_in_stock_delete AFTER DELETE ON catalog_inventory BEGIN {_SQLITE_IN_STOCK.format(row='OLD')} END",
    "CREATE VIRTUAL TABLE catalog_product_fts USING fts5(title, brand, description, tokenize = 'porter unicode61')",
    f"CREATE TRIGGER catalog_product_fts_insert AFTER INSERT ON catalog_product BEGIN {_SQLITE_FTS_INSERT} END",
    f"""CREATE TRIGGER catalog_product_fts_update AFTER UPDATE OF title, description, brand_id ON catalog_product BEGIN
        DELETE FROM catalog_product_fts WHERE rowid = OLD.id; {_SQLITE_FTS_INSERT} END""",
    "CREATE TRIGGER catalog_product_fts_delete AFTER DELETE ON catalog_product BEGIN DELETE FROM catalog_product_fts WHERE rowid = OLD.id; END",
    """CREATE TRIGGER catalog_brand_fts_rename AFTER UPDATE OF name ON catalog_brand BEGIN
        UPDATE catalog_product_fts SET brand = NEW.name
         WHERE rowid IN (SELECT id FROM catalog_product WHERE brand_id = NEW.id); END""",
    """INSERT INTO catalog_product_fts (rowid, title, brand, description)
       SELECT p.id, p.title, b.name, p.description FROM catalog_product p JOIN catalog_brand b ON b.id = p.brand_id""",
    "UPDATE catalog_inventory SET quantity = quantity",
]

SQLITE_REVERSE = [
    "DROP TRIGGER IF EXISTS catalog_brand_fts_rename",
    "DROP TRIGGER IF EXISTS catalog_product_fts_delete",
    "DROP TRIGGER IF EXISTS catalog_product_fts_update",
    "DROP TRIGGER IF EXISTS catalog_product_fts_insert",
    "DROP TABLE IF EXISTS catalog_product_fts",
    "DROP TRIGGER IF EXISTS catalog_inventory_in_stock_delete",
    "DROP TRIGGER IF EXISTS catalog_inventory_in_stock_update",
    "DROP TRIGGER IF EXISTS catalog_inventory_in_stock_insert",
]


def run(postgres, sqlite):
    def apply(apps, schema_editor):
        statements = {"postgresql": postgres, "sqlite": sqlite}.get(schema_editor.connection.vendor)
        if statements is None:
            raise RuntimeError("The catalog's search triggers exist for PostgreSQL and SQLite only.")
        for statement in statements:
            schema_editor.execute(statement, params=None)

    return apply



class Migration(migrations.Migration):
    dependencies = [("catalog", "0003_product_in_stock")]

    operations = [migrations.RunPython(run(POSTGRES, SQLITE), run(POSTGRES_REVERSE, SQLITE_REVERSE))]
