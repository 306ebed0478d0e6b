"""Read paths of the catalog: what pages and other apps ask of it."""
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Page
from django.db import connection
from django.db.models import F, OuterRef, Subquery, Sum
from django.shortcuts import get_object_or_404
from django.utils.text import slugify

from amazon_site.core.dashboard import Figure, changelist

from . import artwork, stock
from .models import AttributeFacet, Category, Inventory, Product
from .pagination import BoundedPaginator

CATEGORY_TREE_CACHE_KEY = "catalog:category-tree:v1"
ATTRIBUTE_FACETS_CACHE_KEY = "catalog:attribute-facets:v1"
FEATURED_CACHE_KEY = "catalog:featured:v1"

BROWSE_SORTS = {
    "newest": ("Newest arrivals", ["-created_at", "-id"]),
    "price": ("Price: low to high", ["price", "id"]),
    "-price": ("Price: high to low", ["-price", "-id"]),
    "rating": ("Avg. customer review", ["-rating", "-review_count", "id"]),
}
DEFAULT_BROWSE_SORT = "newest"


@dataclass(frozen=True)
class CategoryNode:
    id: int
    name: str
    slug: str
    parent_id: int | None
    child_ids: tuple[int, ...] = field(default=())


@dataclass(frozen=True)
class CategoryTree:
    nodes: dict[int, CategoryNode]
    root_ids: tuple[int, ...]

    def children(self, category_id):
        return [self.nodes[i] for i in self.nodes[category_id].child_ids]

    def roots(self):
        return [self.nodes[i] for i in self.root_ids]

    def ancestors(self, category_id):
        """From the root down to the category's parent (breadcrumbs)."""
        chain = []
        parent_id = self.nodes[category_id].parent_id
        while parent_id is not None:
            chain.append(self.nodes[parent_id])
            parent_id = self.nodes[parent_id].parent_id
        return chain[::-1]

    def descendant_ids(self, category_id):
        """The category and everything below it."""
        ids, stack = [], [category_id]
        while stack:
            current = stack.pop()
            ids.append(current)
            stack.extend(self.nodes[current].child_ids)
        return ids


def category_tree() -> CategoryTree:
    tree = cache.get(CATEGORY_TREE_CACHE_KEY)
    if tree is None:
        tree = _build_category_tree()
        cache.set(CATEGORY_TREE_CACHE_KEY, tree, settings.CATALOG_CATEGORY_TREE_CACHE_SECONDS)
    return tree


def _build_category_tree() -> CategoryTree:
    rows = list(Category.objects.order_by("position", "name").values_list("id", "name", "slug", "parent_id"))
    children: dict[int | None, list[int]] = {}
    for category_id, _, _, parent_id in rows:
        children.setdefault(parent_id, []).append(category_id)
    nodes = {
        category_id: CategoryNode(category_id, name, slug, parent_id, tuple(children.get(category_id, ())))
        for category_id, name, slug, parent_id in rows
    }
    return CategoryTree(nodes=nodes, root_ids=tuple(children.get(None, ())))


def forget_category_tree():
    cache.delete_many([CATEGORY_TREE_CACHE_KEY, ATTRIBUTE_FACETS_CACHE_KEY])


@dataclass(frozen=True)
class AttributeFacetSpec:
    key: str  # the attribute's name in products' attributes
    slug: str  # its name in URLs (attr_<slug>=value)
    label: str
    position: int
    value_order: tuple[str, ...]


def attribute_facets() -> dict[int, tuple[AttributeFacetSpec, ...]]:
    """Each category's attribute facets: declared on it or inherited from its
    ancestors, a nearer declaration of the same attribute winning."""
    facets = cache.get(ATTRIBUTE_FACETS_CACHE_KEY)
    if facets is None:
        facets = _build_attribute_facets()
        cache.set(ATTRIBUTE_FACETS_CACHE_KEY, facets, settings.CATALOG_CATEGORY_TREE_CACHE_SECONDS)
    return facets


def _build_attribute_facets():
    declared: dict[int, dict[str, AttributeFacetSpec]] = {}
    for facet in AttributeFacet.objects.all():
        declared.setdefault(facet.category_id, {})[facet.key] = AttributeFacetSpec(
            facet.key, slugify(facet.key), facet.label, facet.position, tuple(facet.ordered_values)
        )
    tree = category_tree()
    facets = {}
    for category_id in tree.nodes:
        merged = {}
        for node in [*tree.ancestors(category_id), tree.nodes[category_id]]:
            merged.update(declared.get(node.id, {}))
        if merged:
            facets[category_id] = tuple(sorted(merged.values(), key=lambda spec: (spec.position, spec.label)))
    return facets


def forget_attribute_facets():
    cache.delete(ATTRIBUTE_FACETS_CACHE_KEY)


def get_category(slug) -> Category:
    return get_object_or_404(Category, slug=slug)


def normalise_sort(sort) -> str:
    return sort if sort in BROWSE_SORTS else DEFAULT_BROWSE_SORT


def browse_products(category: Category, *, sort: str, page_number) -> Page:
    """Active products of a category and its descendants, one page of them.

    The page count is bounded by ``CATALOG_MAX_PAGES`` (see BoundedPaginator)
    so the deepest page costs a bounded OFFSET.
    """
    ordering = BROWSE_SORTS[normalise_sort(sort)][1]
    category_ids = category_tree().descendant_ids(category.pk)
    ids = (
        Product.objects.filter(is_active=True, category_id__in=category_ids)
        .order_by(*ordering)
        .values_list("id", flat=True)
    )
    if 1 < len(category_ids) <= MAX_MERGED_CATEGORIES and connection.features.supports_slicing_ordering_in_compound:
        ids = MergedCategoryIds(ids, category_ids, ordering)
    return _product_page(ids, page_number)


# A parent category lists the products of all its descendants. One index scan
# with ``category_id IN (...)`` has to read and sort every matching row; a
# UNION ALL of one ordered, limited index scan per category reads at most
# (offset + page size) rows from each and merges them.
MAX_MERGED_CATEGORIES = 64


class MergedCategoryIds:
    """Sliceable ids of several categories' products, merged in sort order."""

    def __init__(self, ids, category_ids, ordering):
        self.ids = ids
        self.category_ids = category_ids
        self.ordering = ordering

    def order_by(self, *fields):
        return self.ids.order_by(*fields)

    def __getitem__(self, window: slice):
        if not window.stop:
            return []
        sort_fields = [field.lstrip("-") for field in self.ordering]
        per_category = [
            self.ids.filter(category_id=category_id).values_list("id", *sort_fields)[: window.stop]
            for category_id in self.category_ids
        ]
        merged = per_category[0].union(*per_category[1:], all=True).order_by(*self.ordering)
        return [row[0] for row in merged[window]]


# A price range sorted by date or rating is merged only when at least this many
# products match: then each category's scan soon finds a page's worth (sparser
# matches would make the scans skip most of their rows), and fewer are sorted
# cheaply. Counting up to it is an index-only scan.
DENSE_MATCHES = 20_000


def product_list_ids(*, sort, category=None, brand=None, price_min=None, price_max=None):
    """Ordered ids of the API's product list, read the way ``browse_products`` reads a category.

    The browse indexes lead with the category, so the list names its
    categories (all of them when none is asked for), and one ordered index
    scan per category, merged, reads about a page from each. A brand's
    products are read through its index and sorted instead.
    """
    ordering = BROWSE_SORTS[sort][1]
    tree = category_tree()
    category_ids = tree.descendant_ids(category.pk) if category is not None else list(tree.nodes)
    ids = Product.objects.filter(is_active=True, category_id__in=category_ids)
    if brand is not None:
        ids = ids.filter(brand=brand)
    if price_min is not None:
        ids = ids.filter(price__gte=price_min)
    if price_max is not None:
        ids = ids.filter(price__lte=price_max)
    ids = ids.order_by(*ordering).values_list("id", flat=True)
    if (
        brand is None
        and 1 < len(category_ids) <= MAX_MERGED_CATEGORIES
        and connection.features.supports_slicing_ordering_in_compound
        and (
            (price_min is None and price_max is None)
            or sort in ("price", "-price")  # the price index serves the range in order
            or ids.order_by()[:DENSE_MATCHES].count() == DENSE_MATCHES
        )
    ):
        return MergedCategoryIds(ids, category_ids, ordering)
    return ids


# updated_at versions the drawn picture of a product without a photo (catalog.artwork).
CARD_FIELDS = (
    "title", "slug", "price", "image", "rating", "review_count", "is_active", "updated_at", "brand__name", "brand__slug",
)


def products_by_ids(ids) -> list[Product]:
    """Active products for listing cards, in the order given, with their stock.

    Only what a card shows is read: the description and attributes are most
    of a row, and decoding them was most of the cost of a results page's cards.
    """
    products = Product.objects.filter(is_active=True).select_related("brand").only(*CARD_FIELDS).in_bulk(ids)
    stock = available_stock(ids)
    ordered = []
    for product_id in ids:
        product = products.get(product_id)
        if product is None:  # deactivated since the ids were read (cached lists)
            continue
        product.available = stock.get(product_id, 0)
        product.stock_badge = stock_badge(product.available)
        ordered.append(product)
    return ordered


def available_stock(product_ids) -> dict[int, int]:
    """Units that can still be sold, summed over all warehouses (lapsed holds count as free)."""
    return stock.available(product_ids)


@dataclass(frozen=True)
class StockBadge:
    label: str
    level: str  # "in", "low" or "out": the CSS modifier and what tests check

    @property
    def purchasable(self):
        return self.level != "out"


def stock_badge(available: int) -> StockBadge:
    if available <= 0:
        return StockBadge("Out of stock", "out")
    if available <= settings.LOW_STOCK_THRESHOLD:
        return StockBadge(f"Only {available} left", "low")
    return StockBadge("In stock", "in")


def artwork_subject(product_id) -> artwork.Subject:
    """What an active product's drawn picture shows; 404 for any other id."""
    product = get_object_or_404(
        Product.objects.select_related("brand").only("title", "category_id", "attributes", "brand__name"),
        pk=product_id,
        is_active=True,
    )
    tree = category_tree()
    chain = []
    if product.category_id in tree.nodes:  # a category added since the tree was cached draws the default kind
        chain = [tree.nodes[product.category_id], *tree.ancestors(product.category_id)[::-1]]
    attributes = product.attributes if isinstance(product.attributes, dict) else {}
    colour = attributes.get("color") or attributes.get("colour") or ""
    return artwork.Subject(
        title=product.title,
        brand=product.brand.name,
        category_slugs=tuple(node.slug for node in chain),
        colour=colour if isinstance(colour, str) else "",
    )


def product_detail(product_id) -> Product:
    product = get_object_or_404(
        Product.objects.select_related("brand", "seller", "category"), pk=product_id, is_active=True
    )
    product.available = stock.cached_available(product.pk)
    product.stock_badge = stock_badge(product.available)
    return product


def featured_products(limit=8) -> list[Product]:
    """Best-rated products with enough reviews to trust the rating."""
    ids = cache.get(FEATURED_CACHE_KEY)
    if ids is None:
        ids = list(
            Product.objects.filter(is_active=True)
            .order_by("-rating", "-review_count")
            .values_list("id", flat=True)[:limit]
        )
        cache.set(FEATURED_CACHE_KEY, ids, settings.CATALOG_FEATURED_CACHE_SECONDS)
    return products_by_ids(ids)


def top_categories():
    return category_tree().roots()


def _product_page(ids, page_number) -> Page:
    """One page of product cards from an ordered queryset of ids.

    Sorting and paging run on ids alone (an index-only scan where the index
    allows); only the rows of one page are fetched in full.
    """
    paginator = BoundedPaginator(
        ids, settings.CATALOG_PAGE_SIZE, max_items=settings.CATALOG_MAX_PAGES * settings.CATALOG_PAGE_SIZE
    )
    page = paginator.get_page(page_number)
    page.object_list = products_by_ids(list(page.object_list))
    return page


def recently_viewed(viewed_ids, *, leaving_out=None) -> list[Product]:
    """Cards of the products the visitor looked at last, most recent first; inactive ones drop out."""
    ids = [pk for pk in viewed_ids if pk != leaving_out][: settings.CATALOG_RECENTLY_VIEWED_SHOWN]
    return products_by_ids(ids) if ids else []


def with_stock(products):
    """``products`` with ``total_stock`` and ``available_stock`` (unreserved) over their warehouses, None without stock rows.

    Two correlated sums per product on the stock table's (product, warehouse)
    index: a page of products costs one query, not one per row.
    """
    rows = Inventory.objects.filter(product=OuterRef("pk")).order_by().values("product")
    return products.annotate(
        total_stock=Subquery(rows.annotate(units=Sum("quantity")).values("units")),
        available_stock=Subquery(rows.annotate(units=Sum(F("quantity") - F("reserved"))).values("units")),
    )


# Stock rows read to find the low ones: each product found costs a look at all its rows.
LOW_STOCK_ROWS_READ = 1_000


def low_in_stock(threshold: int) -> tuple[list[int], bool]:
    """Active products with stock rows whose unreserved units, all warehouses together, are below ``threshold``.

    Returns their ids and whether there may be more. No row is ever below
    zero, so each row of a low product is below the threshold too: the
    candidates are read from the stock rows' index on unreserved units,
    emptiest first, at most ``LOW_STOCK_ROWS_READ`` of them, and only their
    products' rows are summed. The million rows with stock left are never read.
    Holds that ran out still count until the release job frees them.
    """
    rows = Inventory.objects.alias(free=F("quantity") - F("reserved")).filter(free__lt=threshold).order_by("free")
    candidates = list(rows.values_list("product_id", flat=True)[: LOW_STOCK_ROWS_READ + 1])
    # Looked up by id, not joined: a join made the planner read every product.
    active = list(
        Product.objects.filter(pk__in=set(candidates[:LOW_STOCK_ROWS_READ]), is_active=True)
        .order_by()
        .values_list("pk", flat=True)
    )
    low = (
        Inventory.objects.filter(product_id__in=active)
        .values("product_id")
        .annotate(available=Sum(F("quantity") - F("reserved")))
        .filter(available__lt=threshold)
        .order_by("product_id")
        .values_list("product_id", flat=True)
    )
    return list(low), len(candidates) > LOW_STOCK_ROWS_READ


def staff_dashboard() -> list[Figure]:
    """The catalog figure of the admin index: active products running out ("120+": at least)."""
    threshold = settings.STAFF_LOW_STOCK_THRESHOLD
    low, more = low_in_stock(threshold)
    return [
        Figure(
            f"Products with fewer than {threshold} in stock",
            f"{len(low):,}+" if more else f"{len(low):,}",
            changelist(Product, in_stock="low", is_active__exact=1),
            attention=bool(low),
        )
    ]
