"""Read paths of recommendations: the shelves pages show, and the baskets the evaluation reads.

Lists are read from the cache (``recs:{product_id}``, filled by the nightly
run) and, on a miss, from the current run's rows in one statement, which then
fills the cache. With Valkey down every read is a miss: slower, never broken.
Stock and activity change all day, so they are checked at read time, on the
few products a shelf shows, not when the lists are computed.
"""
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import groupby

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.utils import timezone

from amazon_site.core.routing import read_alias
from catalog import selectors as catalog_selectors
from catalog.models import Product
from orders import selectors as order_selectors

from .models import CategoryBestseller, Popularity, Recommendation, Run
from .scoring import Anchor, Neighbour, Rules, Shares, rank_for_basket

BESTSELLERS_KEY = "recs:bestsellers"
PRIOR_KEY = "recs:prior"
SHOWN = 8  # cards on a shelf
# Out-of-stock candidates are dropped after the fetch; this many per card
# shown are fetched so a shelf stays full, at the cost of one query either way.
CANDIDATES_PER_CARD = 3
HISTORY_PRODUCTS = 20  # a shopper's most recently bought products that seed "Recommended for you"


def product_key(product_id) -> str:
    return f"recs:v2:{product_id}"


def category_key(category_id) -> str:
    return f"recs:category:{category_id}"


def shelf_key(category_id=None) -> str:
    """Ready bestseller cards of a category (None: of the store), see ``_bestseller_cards``."""
    return f"recs:cards:{'store' if category_id is None else category_id}"


@dataclass(frozen=True)
class Shelf:
    """A row of product cards and the heading that says why they are there; pages hide an empty one."""

    kind: str  # "also_bought", "bestsellers", "personal" or "bought_with"
    title: str
    products: list[Product]


BUNDLE_COMPLEMENTS = 2  # "Frequently bought together": the product and its two best complements


@dataclass(frozen=True)
class Bundle:
    """"Frequently bought together": the product first, then its complements, and what they cost together."""

    products: list[Product]
    # The sum of the cards' prices as read with them: no bundle discount. The
    # cart prices each line as any add does, and checkout charges the price of
    # the day, flagging any that changed since.
    total_price: Decimal


@dataclass(frozen=True)
class ProductSections:
    """What a product page shows of recommendations: "Frequently bought together" (or None) and its shelf."""

    bundle: Bundle | None
    shelf: Shelf


def for_product_page(product) -> ProductSections:
    """Both sections from one cache read and one ``products_by_ids`` call.

    The shelf, "Customers who bought this also bought", is what a cart of this
    one product is shown (``for_cart``); for a product nobody bought with
    anything yet, the bestsellers of its category (or the nearest ancestor that
    has any, or the store). The bundle is the product and its best complements
    in stock: only what its list holds (the shelf's fill from the prior is no
    complement), ranked as the shelf ranks them; None when the product is not
    for sale or none of them is in stock. Every card and the bundle's total
    show the same moment's prices and stock.
    """
    found = anchors([product.pk])
    listed = {neighbour.product_id for neighbour in found[product.pk].neighbours}
    if not listed:
        return ProductSections(None, _bestsellers_for(product))
    candidates = _ranked(found)[: SHOWN * CANDIDATES_PER_CARD]
    cards = {
        card.pk: card
        for card in catalog_selectors.products_by_ids([product.pk, *candidates])
        if card.stock_badge.purchasable
    }
    shown = [cards[product_id] for product_id in candidates if product_id in cards][:SHOWN]
    complements = [cards[product_id] for product_id in candidates if product_id in cards and product_id in listed]
    bundle = None
    if product.pk in cards and complements:
        products = [cards[product.pk], *complements[:BUNDLE_COMPLEMENTS]]
        bundle = Bundle(products, sum((card.price for card in products), Decimal("0.00")))
    shelf = Shelf("also_bought", "Customers who bought this also bought", shown) if shown else _bestsellers_for(product)
    return ProductSections(bundle, shelf)


def for_product(product) -> Shelf:
    """The product page's shelf (``for_product_page``)."""
    return for_product_page(product).shelf


def frequently_bought_together(product) -> Bundle | None:
    """The product page's "Frequently bought together" (``for_product_page``)."""
    return for_product_page(product).bundle


def _bestsellers_for(product) -> Shelf:
    tree = catalog_selectors.category_tree()
    for level in [tree.nodes[product.category_id], *reversed(tree.ancestors(product.category_id))]:
        if cards := _bestseller_cards(level.id, leaving_out=product.pk):
            return Shelf("bestsellers", f"Bestsellers in {level.name}", cards)
    return Shelf("bestsellers", "Bestsellers", _bestseller_cards(None, leaving_out=product.pk))


def for_shopper(user) -> Shelf:
    """"Recommended for you" for a signed-in shopper, bestsellers for anyone else.

    The also-bought lists of the shopper's recent purchases are added up,
    each entry weighted by its score and by how recent the purchase is, then
    filled up with the bestsellers of the categories they buy from and of the
    store. Whatever they bought already (in any order not cancelled) is left out.
    """
    if not user.is_authenticated:
        return Shelf("bestsellers", "Bestsellers", _bestseller_cards(None))
    history = _recent_purchases(user)
    now = timezone.now()
    half_life = timedelta(days=settings.RECOMMENDATIONS_HALF_LIFE_DAYS)
    weights = {product_id: 0.5 ** ((now - bought_at) / half_life) for product_id, _, bought_at in history}
    category_weights = defaultdict(float)
    for product_id, category_id, _ in history:
        category_weights[category_id] += weights[product_id]
    categories = sorted(category_weights, key=lambda category_id: (-category_weights[category_id], category_id))

    # Only what the lists hold, then the categories they buy from: a shopper's own shelf.
    candidates = rank_for_basket(anchors(list(weights)), [], Rules.from_settings(), weights=weights, size=1)
    fills = category_bestsellers(categories)
    for category_id in categories:
        candidates.extend(fills[category_id])
    candidates.extend(bestsellers())
    candidates = list(dict.fromkeys(candidates))
    bought = order_selectors.bought_product_ids(user, candidates)
    products = _in_stock([product_id for product_id in candidates if product_id not in bought], SHOWN)
    return Shelf("personal", "Recommended for you", products)


def for_cart(product_ids) -> Shelf:
    """"Frequently bought with items in your cart": ``scoring.rank_for_basket`` of the cart's products."""
    products = _in_stock(_ranked(anchors(list(dict.fromkeys(product_ids)))), SHOWN)
    return Shelf("bought_with", "Frequently bought with items in your cart", products)


def _ranked(found: dict[int, Anchor]) -> list[int]:
    return rank_for_basket(found, prior(), Rules.from_settings())


def _in_stock(ids, limit) -> list[Product]:
    products = catalog_selectors.products_by_ids(ids[: limit * CANDIDATES_PER_CARD])
    return [product for product in products if product.stock_badge.purchasable][:limit]


def _bestseller_cards(category_id, *, leaving_out=None) -> list[Product]:
    """The in-stock bestsellers of a category (None: the store), for a shelf.

    Every product without a list of its own shows these, and anonymous
    visitors' home page the store's: the cards, stock badges included, are
    cached as briefly as the product page's own badge (STOCK_BADGE_CACHE_SECONDS)
    and shared by every page that shows them. One extra card is kept to stand
    in for the viewed product when it is a bestseller itself.
    """
    key = shelf_key(category_id)
    cards = cache.get(key)
    if cards is None:
        ids = bestsellers() if category_id is None else category_bestsellers([category_id])[category_id]
        cards = _in_stock(ids, SHOWN + 1)
        cache.set(key, cards, settings.STOCK_BADGE_CACHE_SECONDS)
    return [card for card in cards if card.pk != leaving_out][:SHOWN]


def _recent_purchases(user) -> list[tuple[int, int, datetime]]:
    """(product, its category, when bought) of the shopper's latest paid purchases, newest first, each product once."""
    # Room for the same product bought again in several recent orders.
    rows = order_selectors.paid_purchases_newest_first(user)[: HISTORY_PRODUCTS * 3]
    seen = {}
    for product_id, category_id, bought_at in rows:
        seen.setdefault(product_id, (product_id, category_id, bought_at))
    return list(seen.values())[:HISTORY_PRODUCTS]


# Products' lists with what ranking needs: each product's own weighted
# baskets, and per entry its confidence and the entry's shares. A product
# bought with others but with no pair frequent enough has one row, without an entry.
LIST_ROWS_SQL = (
    "SELECT anchor.product_id, anchor.baskets, r.recommended_id, r.score, r.co_count, "
    "p.share, p.share_2, p.share_3, p.share_4 "
    f"FROM {Popularity._meta.db_table} anchor "
    f"LEFT JOIN {Recommendation._meta.db_table} r ON r.run_id = anchor.run_id AND r.product_id = anchor.product_id "
    f"LEFT JOIN {Popularity._meta.db_table} p ON p.run_id = r.run_id AND p.product_id = r.recommended_id"
)


def cached_lists(rows) -> Iterator[tuple[int, tuple]]:
    """``LIST_ROWS_SQL`` rows, ordered by product and rank, as (product, what its
    cache key holds): its baskets and its entries as plain tuples, which
    (un)pickle several times faster than the dataclasses ``anchors`` returns."""
    for product_id, group in groupby(rows, _first):
        group = list(group)
        yield product_id, (group[0][1], tuple(row[2:] for row in group if row[2] is not None))


def _anchor(cached) -> Anchor:
    baskets, entries = cached
    return Anchor(baskets, tuple(
        Neighbour(other, confidence, co, Shares(share, (share_2, share_3, share_4)))
        for other, confidence, co, share, share_2, share_3, share_4 in entries
    ))


def anchors(product_ids) -> dict[int, Anchor]:
    """Each product's ``Anchor`` (its baskets and list, best first): no baskets and
    no list for a product never bought with anything. One statement on a cache miss."""
    keys = {product_key(product_id): product_id for product_id in product_ids}
    found = {keys[key]: cached for key, cached in cache.get_many(list(keys)).items()}
    missing = [product_id for product_id in product_ids if product_id not in found]
    if missing:
        placeholders = ", ".join(["%s"] * len(missing))
        with connections[read_alias()].cursor() as cursor:
            cursor.execute(
                f"{LIST_ROWS_SQL} JOIN {Run._meta.db_table} run ON run.id = anchor.run_id AND run.is_current "
                f"WHERE anchor.product_id IN ({placeholders}) ORDER BY anchor.product_id, r.rank",
                missing,
            )
            loaded = dict(cached_lists(cursor.fetchall()))
        for product_id in missing:
            found[product_id] = loaded.get(product_id, (0.0, ()))
            _cache_add(product_key(product_id), found[product_id])
    return {product_id: _anchor(cached) for product_id, cached in found.items()}


def prior() -> list[tuple[int, Shares]]:
    """The products with the largest shares of what is added to baskets, best first."""
    found = cache.get(PRIOR_KEY)
    if found is None:
        found = prior_from_run(Run.objects.filter(is_current=True).values_list("prior", flat=True).first() or [])
        _cache_add(PRIOR_KEY, found)
    return found


def prior_from_run(rows) -> list[tuple[int, Shares]]:
    return [(product_id, Shares(share, tuple(by_size))) for product_id, share, *by_size in rows]


def category_bestsellers(category_ids) -> dict[int, list[int]]:
    """Each category's bestsellers (its descendants' included), best first."""
    keys = {category_key(category_id): category_id for category_id in category_ids}
    found = {keys[key]: ids for key, ids in cache.get_many(list(keys)).items()}
    missing = [category_id for category_id in category_ids if category_id not in found]
    if missing:
        rows = (
            CategoryBestseller.objects.filter(run__is_current=True, category_id__in=missing)
            .order_by("category_id", "rank")
            .values_list("category_id", "product_id")
        )
        loaded = {category_id: [product_id for _, product_id in group] for category_id, group in groupby(rows, _first)}
        for category_id in missing:
            found[category_id] = loaded.get(category_id, [])
            _cache_add(category_key(category_id), found[category_id])
    return found


def bestsellers() -> list[int]:
    """The store's bestsellers, best first."""
    ids = cache.get(BESTSELLERS_KEY)
    if ids is None:
        ids = Run.objects.filter(is_current=True).values_list("bestsellers", flat=True).first() or []
        _cache_add(BESTSELLERS_KEY, ids)
    return ids


def current_run() -> Run | None:
    """The run the shelves show; None before the first."""
    return Run.objects.filter(is_current=True).first()


def _first(row):
    return row[0]


def _cache_add(key, value):
    # ``add``, not ``set``: if the nightly run wrote this key since our read of
    # the table, its newer list wins.
    cache.add(key, value, settings.RECOMMENDATIONS_CACHE_SECONDS)


@dataclass(frozen=True)
class Basket:
    order_id: int
    customer_id: int
    created_at: datetime
    products: tuple[int, ...]


def paid_baskets(*, since: datetime | None = None) -> Iterator[Basket]:
    """The distinct products of every paid order, by order id, streamed."""
    rows = order_selectors.paid_order_lines(since=since)
    for order_id, group in groupby(rows.iterator(chunk_size=20_000), _first):
        group = list(group)
        _, customer_id, created_at, _ = group[0]
        yield Basket(order_id, customer_id, created_at, tuple(sorted({row[3] for row in group})))

