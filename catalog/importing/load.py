"""Loading one batch of checked rows: one transaction, a few set-based statements.

The batch's rows go into a temporary table (COPY on PostgreSQL), and every
write joins it: new products in one ``INSERT ... SELECT``, changed ones in one
``UPDATE ... FROM``, stock through ``catalog.stock.set_quantities``. Nothing
runs once per product, so a million rows cost about as much as the database's
own work on them.

The order inside the transaction follows the lock order of ``catalog.stock``:
stock rows of existing products are locked and set first, product rows after.
A row is refused whole (nothing of it is written) when the database says so:
an unknown SKU without what a new product needs, stock below what carts hold,
a rating for a product whose reviews are written here.

On PostgreSQL the batch keeps the search projection itself (the triggers stand
aside for a transaction that set ``catalog.bulk_write``, migration 0012): new
products' documents from the texts ``ProductRow.document_parts`` worked out in
Python, changed texts by the database's ``catalog_search_document``, and price,
rating and stock copied across. SQLite's triggers keep its full-text table.
"""
import json
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify

from amazon_site.core.bulk import temporary_table

from .. import stock
from ..models import Brand, Category, Product, Seller, Warehouse
from ..ratings import STARS, star_field
from .rows import NEW_PRODUCT_FIELDS, ProductRow, Rejection

# Any fixed number unique among the site's advisory locks ("catimp" in ASCII):
# two imports at once queue batch by batch instead of racing on new SKUs.
IMPORT_LOCK_ID = 0x636174696D70
TABLE = Product._meta.db_table
SEARCH_TABLE = "catalog_product_search"
STAGING = "import_product"
STAGING_COLUMNS = [
    ("line", "integer"), ("sku", "varchar(64)"), ("title", "varchar(500)"), ("slug", "varchar(200)"),
    ("description", "text"), ("brand_id", "bigint"), ("category_id", "bigint"), ("seller_id", "bigint"),
    ("price", "numeric(10, 2)"), ("attributes", "text"), ("image", "varchar(100)"), ("rating", "numeric(2, 1)"),
    ("review_count", "integer"), *[(star_field(stars), "integer") for stars in STARS], ("is_active", "boolean"),
    ("created_at", "timestamptz"), ("in_stock", "boolean"),
    ("doc_a", "text"), ("doc_b", "text"), ("doc_c", "text"), ("doc_d", "text"),
    ("product_id", "bigint"), ("is_new", "boolean"), ("text_changed", "boolean"),
]
# Product columns a row may give, and so an update may change.
UPDATABLE = [
    "title", "slug", "description", "brand_id", "category_id", "seller_id", "price", "image", "rating",
    "review_count", *[star_field(stars) for stars in STARS], "is_active", "created_at",
]
TEXT_COLUMNS = ["title", "description", "brand_id", "category_id", "attributes", "is_active"]
LOOKUP_CHUNK = 5_000  # SKUs per look-up statement (SQLite takes at most 32,766 parameters)


@dataclass
class BatchOutcome:
    created: int = 0
    updated: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    texts_changed: bool = False
    categories_created: bool = False


class References:
    """Brands, categories, sellers and warehouses by what a feed calls them, made as rows need them.

    Read once per import; what a batch creates is forgotten again if the batch
    rolls back, so the next batch creates it anew inside its own transaction.
    """

    def __init__(self, *, default_seller: str | None = None):
        self.brands = {name.lower(): (pk, name) for pk, name in Brand.objects.values_list("pk", "name")}
        self.brand_slugs = set(Brand.objects.values_list("slug", flat=True))
        self.sellers = {name.lower(): pk for pk, name in Seller.objects.values_list("pk", "name")}
        self.seller_slugs = set(Seller.objects.values_list("slug", flat=True))
        self.warehouses = dict(Warehouse.objects.values_list("code", "pk"))
        nodes = {pk: (name, parent) for pk, name, parent in Category.objects.values_list("pk", "name", "parent_id")}
        self.categories = {}
        for pk in nodes:
            path, node = [], pk
            while node is not None:
                path.append(nodes[node][0].lower())
                node = nodes[node][1]
            self.categories[tuple(reversed(path))] = pk
        self.category_slugs = set(Category.objects.values_list("slug", flat=True))
        self.default_seller = default_seller
        self._made = []
        # Exact spellings already resolved; emptied when a batch rolls back.
        self._exact, self._exact_paths = {}, {}

    @staticmethod
    def warehouse_codes() -> list[str]:
        return list(Warehouse.objects.values_list("code", flat=True))

    def brand(self, name: str) -> tuple[int, str]:
        """(id, name as stored): "ACME" finds "Acme"."""
        if name in self._exact:  # the same spelling as a row before: most rows
            return self._exact[name]
        if name.lower() not in self.brands:
            brand = Brand.objects.create(name=name, slug=_free_slug(name, self.brand_slugs, "brand"))
            self._remember(self.brands, name.lower(), (brand.pk, brand.name), self.brand_slugs, brand.slug)
        self._exact[name] = self.brands[name.lower()]
        return self._exact[name]

    def seller(self, name: str) -> int:
        if name.lower() not in self.sellers:
            seller = Seller.objects.create(name=name, slug=_free_slug(name, self.seller_slugs, "seller"))
            self._remember(self.sellers, name.lower(), seller.pk, self.seller_slugs, seller.slug)
        return self.sellers[name.lower()]

    def category(self, path: tuple[str, ...]) -> int:
        if path in self._exact_paths:
            return self._exact_paths[path]
        key = tuple(part.lower() for part in path)
        for depth in range(1, len(key) + 1):
            if key[:depth] not in self.categories:
                parent = self.categories[key[: depth - 1]] if depth > 1 else None
                category = Category.objects.create(
                    name=path[depth - 1], parent_id=parent, slug=_free_slug(path[depth - 1], self.category_slugs, "category")
                )
                self._remember(self.categories, key[:depth], category.pk, self.category_slugs, category.slug)
        self._exact_paths[path] = self.categories[key]
        return self._exact_paths[path]

    @property
    def made_categories(self) -> bool:
        return any(mapping is self.categories for mapping, *_ in self._made)

    def _remember(self, mapping, key, value, slugs, slug):
        mapping[key] = value
        slugs.add(slug)
        self._made.append((mapping, key, slugs, slug))

    def commit(self):
        self._made = []

    def rollback(self):
        for mapping, key, slugs, slug in self._made:
            mapping.pop(key, None)
            slugs.discard(slug)
        self._made = []
        self._exact, self._exact_paths = {}, {}


def _free_slug(name, taken, fallback) -> str:
    base = slugify(name)[:190] or fallback
    slug, number = base, 2
    while slug in taken:
        slug, number = f"{base}-{number}", number + 1
    return slug


def load_batch(rows: list[ProductRow], references: References, *, fresh=False) -> BatchOutcome:
    """Write the rows in one transaction: all of them that the database accepts, or (on an error) none.

    ``fresh``: the import began with an empty catalog, so no row names an
    existing product (SKUs are unique in a feed) and none is looked up.
    """
    try:
        with transaction.atomic():
            outcome = _load(rows, references, fresh)
    except BaseException:
        references.rollback()
        raise
    outcome.categories_created = references.made_categories
    references.commit()
    return outcome


def _load(rows, references, fresh) -> BatchOutcome:
    postgres = connection.vendor == "postgresql"
    outcome = BatchOutcome()
    with connection.cursor() as cursor:
        if postgres:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [IMPORT_LOCK_ID])
            cursor.execute("SET LOCAL catalog.bulk_write = 'on'")
    by_row = {row.row: row for row in rows}
    # SKU -> (id, whether its reviews are written here); refusals are known
    # before anything is written, so a refused row makes no brand or category.
    existing = {} if fresh else _existing(rows)
    refused = set()
    for number, row in by_row.items():
        if row.sku not in existing and (missing := _missing(row, references)):
            outcome.rejections.append(
                Rejection(number, row.sku, missing[0], "no product has this SKU; a new product needs " + ", ".join(missing))
            )
            refused.add(number)
        elif row.sku in existing and row.review_count is not None and existing[row.sku][1]:
            outcome.rejections.append(
                Rejection(number, row.sku, "rating", "this product's reviews are written here: its rating follows them")
            )
            refused.add(number)
    codes = {pk: code for code, pk in references.warehouses.items()}
    shelf = [
        (number, existing[row.sku][0], references.warehouses[code], units)
        for number, row in by_row.items()
        if row.sku in existing and number not in refused
        for code, units in row.stock.items()
    ]
    shelved = stock.set_quantities(shelf) if shelf else stock.QuantitiesSet({}, set())
    for number, refusal in shelved.refused.items():
        outcome.rejections.append(
            Rejection(
                number, by_row[number].sku, f"stock:{codes[refusal.warehouse_id]}",
                f"{refusal.reserved} units are held in carts: the shelf cannot go below that ({refusal.quantity} given)",
            )
        )
        refused.add(number)
    kept = [row for row in rows if row.row not in refused]
    new = [row for row in kept if row.sku not in existing]
    # Into an empty catalog on PostgreSQL the new products' ids are drawn
    # ahead from the table's sequence: staged with them, the rows need no
    # look-up by SKU after the insert.
    drawn = dict(zip((row.row for row in new), _new_ids(len(new)))) if fresh and postgres and new else {}
    # A list, not a generator: making a brand or category queries the
    # connection, which cannot while a COPY is under way.
    staged = [
        _staged(row, references, existing[row.sku][0] if row.sku in existing else drawn.get(row.row), row.sku not in existing)
        for row in kept
    ]
    temporary_table(STAGING, STAGING_COLUMNS, staged, analyze=not fresh)
    with connection.cursor() as cursor:
        outcome.created = _insert_new(cursor, ids_known=bool(drawn)) if new else 0
        if drawn:
            created = drawn
        elif new:
            cursor.execute(f"SELECT line, product_id FROM {STAGING} WHERE is_new")
            created = dict(cursor.fetchall())
        else:
            created = {}
        stock.add_first_stock(
            (product_id, references.warehouses[code], units)
            for number, product_id in created.items()
            for code, units in by_row[number].stock.items()
        )
        if existing:
            outcome.updated = len(_update_existing(cursor, postgres) | shelved.changed)
            cursor.execute(f"SELECT count(*) FROM {STAGING} WHERE text_changed")
            outcome.texts_changed = bool(cursor.fetchone()[0])
        outcome.texts_changed |= bool(outcome.created)
        if postgres:
            _write_projection(cursor, updates=bool(existing))
    return outcome


def _existing(rows) -> dict[str, tuple[int, bool]]:
    """The batch's SKUs the catalog has: their ids, and whether their reviews are written here."""
    skus = [row.sku for row in rows]
    found = {}
    with connection.cursor() as cursor:
        for start in range(0, len(skus), LOOKUP_CHUNK):
            chunk = skus[start : start + LOOKUP_CHUNK]
            cursor.execute(
                f"SELECT sku, id, rating_total IS NOT NULL FROM {TABLE} WHERE sku IN ({', '.join(['%s'] * len(chunk))})",
                chunk,
            )
            found.update((sku, (pk, reviewed)) for sku, pk, reviewed in cursor.fetchall())
    return found


def _missing(row: ProductRow, references) -> list[str]:
    missing = [name for name in NEW_PRODUCT_FIELDS if getattr(row, name) is None]
    if row.seller is None and references.default_seller is None:
        missing.append("seller")
    return missing


def _new_ids(count) -> list[int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT nextval(pg_get_serial_sequence('{TABLE}', 'id')) FROM generate_series(1, %s)", [count]
        )
        return [pk for (pk,) in cursor.fetchall()]


def _staged(row: ProductRow, references, product_id, is_new):
    """The row's values in the staging table's column order."""
    brand_id = references.brand(row.brand)[0] if row.brand is not None else None
    seller = row.seller if row.seller is not None else references.default_seller
    stars = row.stars()
    # Only a new product's document is written from these; brand names meet
    # case-insensitively, as to_tsvector reads them.
    document = (row.parts or row.document_parts()) if is_new else (None, None, None, None)
    return (
        row.row, row.sku, row.title, row.slug, row.description,
        brand_id,
        references.category(row.category) if row.category is not None else None,
        references.seller(seller) if seller is not None else None,
        row.price,
        json.dumps(row.attributes) if row.attributes is not None else None,
        row.image, row.rating, row.review_count,
        *([stars[level] for level in STARS] if stars is not None else [None] * len(STARS)),
        row.active,
        connection.ops.adapt_datetimefield_value(row.created_at) if row.created_at else None,
        any(units > 0 for units in row.stock.values()),
        *document,
        product_id, is_new, False,
    )


def _insert_new(cursor, *, ids_known) -> int:
    attributes = "coalesce(attributes::jsonb, '{}')" if connection.vendor == "postgresql" else "coalesce(attributes, '{}')"
    stars = ", ".join(star_field(level) for level in STARS)
    zero_stars = ", ".join(f"coalesce({star_field(level)}, 0)" for level in STARS)
    now = connection.ops.adapt_datetimefield_value(timezone.now())
    columns = (
        f"sku, title, slug, description, brand_id, category_id, seller_id, price, attributes, "
        f"image, rating, review_count, {stars}, is_active, in_stock, created_at, updated_at"
    )
    values = (
        f"sku, title, slug, coalesce(description, ''), brand_id, category_id, seller_id, price, {attributes}, "
        f"coalesce(image, ''), coalesce(rating, 0), coalesce(review_count, 0), {zero_stars}, coalesce(is_active, true), "
        "in_stock, coalesce(created_at, %s), %s"
    )
    if ids_known:
        columns, values = f"id, {columns}", f"product_id, {values}"
    cursor.execute(
        f"INSERT INTO {TABLE} ({columns}) SELECT {values} FROM {STAGING} WHERE is_new ORDER BY line", [now, now]
    )
    created = cursor.rowcount
    if created and not ids_known:
        cursor.execute(f"UPDATE {STAGING} AS s SET product_id = p.id FROM {TABLE} p WHERE s.is_new AND p.sku = s.sku")
    return created


def _update_existing(cursor, postgres) -> int:
    """Change what the rows give and the products do not already have; returns the products changed."""
    attributes = "s.attributes::jsonb" if postgres else "s.attributes"

    def differs(column, value=None):
        value = value or f"s.{column}"
        return f"({value} IS NOT NULL AND {value} IS DISTINCT FROM p.{column})"

    text_differs = " OR ".join(
        differs(column, attributes if column == "attributes" else None) for column in TEXT_COLUMNS
    )
    cursor.execute(
        f"UPDATE {STAGING} AS s SET text_changed = true FROM {TABLE} p "
        f"WHERE p.id = s.product_id AND NOT s.is_new AND ({text_differs})"
    )
    assignments = ", ".join(f"{column} = coalesce(s.{column}, p.{column})" for column in UPDATABLE)
    changed = " OR ".join([differs(column) for column in UPDATABLE] + [differs("attributes", attributes)])
    cursor.execute(
        f"UPDATE {TABLE} AS p SET {assignments}, attributes = coalesce({attributes}, p.attributes), updated_at = %s "
        f"FROM {STAGING} s WHERE p.id = s.product_id AND NOT s.is_new AND ({changed}) RETURNING id",
        [connection.ops.adapt_datetimefield_value(timezone.now())],
    )
    return {pk for (pk,) in cursor.fetchall()}


ATTRIBUTE_PAIRS = "ARRAY(SELECT key || '=' || value FROM jsonb_each_text(p.attributes) ORDER BY key)"
PROJECTION_COLUMNS = "id, category_id, brand_id, price, rating, review_count, in_stock, created_at, attrs, document"
PROJECTION_VALUES = "p.id, p.category_id, p.brand_id, p.price, p.rating, p.review_count, p.in_stock, p.created_at"
FACET_COLUMNS = ["price", "rating", "review_count", "in_stock", "created_at"]


def _write_projection(cursor, *, updates) -> None:
    """The search projection of the batch's products, as the triggers would have written it."""
    cursor.execute(
        f"INSERT INTO {SEARCH_TABLE} ({PROJECTION_COLUMNS}) "
        f"SELECT {PROJECTION_VALUES}, {ATTRIBUTE_PAIRS}, catalog_search_document_parts(s.doc_a, s.doc_b, s.doc_c, s.doc_d) "
        f"FROM {STAGING} s JOIN {TABLE} p ON p.id = s.product_id WHERE s.is_new AND p.is_active"
    )
    if not updates:
        return
    cursor.execute(
        f"DELETE FROM {SEARCH_TABLE} WHERE id IN (SELECT s.product_id FROM {STAGING} s JOIN {TABLE} p "
        "ON p.id = s.product_id WHERE s.text_changed AND NOT p.is_active)"
    )
    updates = ", ".join(f"{column} = EXCLUDED.{column}" for column in PROJECTION_COLUMNS.split(", ")[1:])
    cursor.execute(
        f"INSERT INTO {SEARCH_TABLE} ({PROJECTION_COLUMNS}) "
        f"SELECT {PROJECTION_VALUES}, {ATTRIBUTE_PAIRS}, "
        "catalog_search_document(p.title, b.name, (SELECT string_agg(value, ' ') FROM jsonb_each_text(p.attributes)), "
        f"p.description) FROM {STAGING} s JOIN {TABLE} p ON p.id = s.product_id JOIN catalog_brand b ON b.id = p.brand_id "
        f"WHERE s.text_changed AND p.is_active ON CONFLICT (id) DO UPDATE SET {updates}"
    )
    facets = ", ".join(f"{column} = p.{column}" for column in FACET_COLUMNS)
    cursor.execute(
        f"UPDATE {SEARCH_TABLE} ps SET {facets} FROM {STAGING} s JOIN {TABLE} p ON p.id = s.product_id "
        "WHERE ps.id = p.id AND NOT s.is_new AND NOT s.text_changed AND "
        f"({', '.join('ps.' + c for c in FACET_COLUMNS)}) IS DISTINCT FROM ({', '.join('p.' + c for c in FACET_COLUMNS)})"
    )
