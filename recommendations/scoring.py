"""The rules that turn baskets into "also bought" lists, in one place.

Production computes the lists in SQL (``services``); the offline evaluation
computes them in Python from any basket source (``also_bought_lists``). Both
read the rules, the score and the ranking from this module, and a test checks
that they produce the same lists, so what the evaluation measures is what the
store shows.

- A basket is the set of distinct products of one paid order. Orders with more
  than ``max_order_items`` distinct products are skipped entirely, so one bulk
  order cannot make 1,225 pairs out of 50 unrelated products.
- ``n(a)`` is the number of baskets holding ``a``; ``co(a, b)`` the number
  holding both. Pairs bought together fewer than ``min_co_count`` times are
  noise and dropped.
- The score is the cosine ``co(a, b) / sqrt(n(a) · n(b))``: a bestseller is in
  many baskets by chance, and dividing by its own count keeps it from topping
  every list. The raw ``co`` is kept alongside.
- A list is ranked by score, then ``co``, then product id (so ties are
  deterministic), and holds at most ``list_length`` products.
"""
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import combinations

from django.conf import settings


@dataclass(frozen=True)
class Rules:
    max_order_items: int
    min_co_count: int
    list_length: int

    @classmethod
    def from_settings(cls) -> "Rules":
        return cls(
            max_order_items=settings.RECOMMENDATIONS_MAX_ORDER_ITEMS,
            min_co_count=settings.RECOMMENDATIONS_MIN_CO_COUNT,
            list_length=settings.RECOMMENDATIONS_LIST_LENGTH,
        )


def score(co: int, n_a: int, n_b: int) -> float:
    return co / math.sqrt(n_a * n_b)


# The same expression for the database, operand for operand: IEEE division and
# square root are correctly rounded, so both paths produce the same floats and
# therefore the same order. ``co``, ``n_a``, ``n_b`` are column references.
SCORE_SQL = "CAST({co} AS DOUBLE PRECISION) / SQRT(CAST({n_a} AS DOUBLE PRECISION) * {n_b})"
RANK_SQL = "ORDER BY {score} DESC, {co} DESC, {other}"


@dataclass(frozen=True)
class Neighbour:
    product_id: int
    score: float
    co_count: int


def rank_key(neighbour: Neighbour):
    return (-neighbour.score, -neighbour.co_count, neighbour.product_id)


@dataclass(frozen=True)
class Model:
    """What the rules learn from a set of baskets."""

    lists: dict[int, list[Neighbour]]  # product -> its also-bought list, best first
    counts: Counter  # product -> baskets holding it

    def top(self, product_id, k) -> list[int]:
        return [neighbour.product_id for neighbour in self.lists.get(product_id, ())[:k]]

    def bestsellers(self, k) -> list[int]:
        """Products in the most baskets; ties by id, as the database ranks them."""
        return [product for product, _ in sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:k]]


def also_bought_lists(baskets: Sequence[Iterable[int]], rules: Rules, *, shards: int = 1) -> Model:
    """Learn the lists from baskets, holding at most about 1/shards of the pair counts at once.

    Most pairs are bought together once and are dropped by ``min_co_count``,
    so memory is dominated by the counting. With ``shards`` > 1 the baskets
    are read once per shard and each pass counts only the pairs whose smaller
    product id falls in that shard; only the surviving pairs are kept.
    """
    counts = Counter()
    for products in _within_cap(baskets, rules):
        counts.update(products)

    survivors = []  # (a, b, co) with a < b
    for shard in range(shards):
        pairs = Counter()
        for products in _within_cap(baskets, rules):
            pairs.update(pair for pair in combinations(products, 2) if pair[0] % shards == shard)
        survivors.extend((a, b, co) for (a, b), co in pairs.items() if co >= rules.min_co_count)
        del pairs

    candidates = defaultdict(list)
    for a, b, co in survivors:
        value = score(co, counts[a], counts[b])
        candidates[a].append(Neighbour(b, value, co))
        candidates[b].append(Neighbour(a, value, co))
    lists = {product: sorted(found, key=rank_key)[: rules.list_length] for product, found in candidates.items()}
    return Model(lists=lists, counts=counts)


def _within_cap(baskets, rules):
    for basket in baskets:
        products = sorted(set(basket))
        if len(products) <= rules.max_order_items:
            yield products
