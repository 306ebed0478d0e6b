"""The rules that turn baskets into recommendations, in one place.

Production computes the lists in SQL (``services``); the offline evaluation
computes them in Python from any basket source (``learn``). Both read the
rules and the formulas from this module, a test checks that they produce the
same lists to the last bit, and the shelves rank with ``rank_for_basket``
here, so what the evaluation measures is what the store shows.

What a shelf predicts is the product a shopper adds next to what they have
(measured on real baskets: hide one product of a basket, rank with the rest).
So the counts are those of that event:

- A basket is the set of distinct products of one paid order. Orders with more
  than ``max_order_items`` distinct products are skipped entirely, so one bulk
  order cannot make 1,225 pairs out of 50 unrelated products; a basket of one
  product adds nothing next to anything and counts only for the bestsellers.
- A basket weighs ``0.5 ** (age / half_life_days)``: recent buying habits
  count more (a shop's bestsellers change with the season).
- For a basket of ``s`` products holding ``a``, the product added next to
  ``a`` is each of the other ``s - 1`` equally often, so a pair counts
  ``weight / (s - 1)`` (``together``), and a product is the one added at all
  ``weight / s`` (its ``share`` of additions; ``baskets(a)`` sums the weights).
- ``confidence(b | a) = (together(a, b) + m · share(b)) / (baskets(a) + m)``:
  how often ``b`` is added where ``a`` is, shrunk toward ``b``'s share by
  ``m = shrinkage`` baskets, so that a pair seen twice does not outrank what
  every basket holds.
- A basket of ``k`` products (the cart and the one to add) adds different
  products than a basket of two: the share within baskets of that size
  (``2``, ``3``, ``4`` or more), shrunk toward the overall share, lifts them.
- The score of ``b`` for a cart is the cart's mean confidence × share at the
  cart's size / ``share(b) ** (1 + LIFT)``: the small ``LIFT`` keeps the
  bestsellers, which every cart's counts favour, from filling every shelf.
- Pairs bought together fewer than ``min_co_count`` times are dropped (they
  are most pairs, and noise); what they would add is the share term, which
  every product keeps. A list is ranked by its score for a cart of that one
  product, then product id, and holds at most ``list_length`` products.

Every weighted term is rounded to a multiple of 2**-24 before it is summed:
sums of such numbers are exact in floating point (up to 2**29 baskets), so the
database's sums, in whatever order it adds the rows, are bit for bit Python's.
"""
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from django.conf import settings

LIFT = 0.1
SIZES = (2, 3, 4)  # basket sizes told apart; the last stands for "4 or more"
QUANTUM = 2**24


@dataclass(frozen=True)
class Rules:
    max_order_items: int
    min_co_count: int
    list_length: int
    shrinkage: float = 5.0
    half_life_days: float = 30.0

    @classmethod
    def from_settings(cls) -> "Rules":
        return cls(
            max_order_items=settings.RECOMMENDATIONS_MAX_ORDER_ITEMS,
            min_co_count=settings.RECOMMENDATIONS_MIN_CO_COUNT,
            list_length=settings.RECOMMENDATIONS_LIST_LENGTH,
            shrinkage=settings.RECOMMENDATIONS_SHRINKAGE,
            half_life_days=settings.RECOMMENDATIONS_HALF_LIFE_DAYS,
        )


def quantised(value: float) -> float:
    return math.floor(value * QUANTUM + 0.5) / QUANTUM


def weight(age_seconds: float, rules: Rules) -> float:
    return math.pow(0.5, age_seconds / (rules.half_life_days * 86400.0))


def size_bucket(size: int) -> int:
    return min(size, SIZES[-1])


# The same expressions for the database, operand for operand (IEEE arithmetic
# is correctly rounded and POWER is the same libm call as Python's), so both
# paths produce the same floats and therefore the same order. Literals are
# cast: PostgreSQL would otherwise compute in NUMERIC.
def _double(literal) -> str:
    return f"CAST({literal} AS DOUBLE PRECISION)"


QUANTISED_SQL = f"(FLOOR(({{value}}) * {_double(QUANTUM)} + {_double(0.5)}) / {_double(QUANTUM)})"
WEIGHT_SQL = f"POWER({_double(0.5)}, ({{age_seconds}}) / ({{half_life_days}} * {_double(86400.0)}))"
LIST_SCORE_SQL = f"({{confidence}} * {{share_2}} / POWER({{share}}, {_double(1.0 + LIFT)}))"


@dataclass(frozen=True)
class Shares:
    """A product's share of what is added to baskets: overall, and in baskets of each of ``SIZES``."""

    share: float
    by_size: tuple[float, ...]

    def at(self, size: int) -> float:
        return self.by_size[SIZES.index(size_bucket(size))]


@dataclass(frozen=True)
class Neighbour:
    product_id: int
    confidence: float
    co_count: int
    shares: Shares


@dataclass(frozen=True)
class Anchor:
    """A product in the cart: the baskets it was in (weighted) and its list."""

    baskets: float
    neighbours: Sequence[Neighbour]


def size_share(share_k: float, total_k: float, share: float, m: float) -> float:
    """The share in baskets of one size: the overall share times how much more the
    product is added there than expected, that ratio shrunk toward 1 by ``m``."""
    return share * (share_k + m) / (share * total_k + m)


def confidence(together: float, share: float, baskets: float, m: float) -> float:
    return (together + m * share) / (baskets + m)


def list_score(neighbour_confidence: float, shares: Shares) -> float:
    return neighbour_confidence * shares.by_size[0] / math.pow(shares.share, 1.0 + LIFT)


def rank_for_basket(
    anchors: Mapping[int, Anchor], prior: Sequence[tuple[int, Shares]], rules: Rules, *,
    weights: Mapping[int, float] | None = None, size: int | None = None,
) -> list[int]:
    """Products to add to a basket of ``anchors`` (product -> its ``Anchor``), best first.

    Candidates are the anchors' lists and ``prior`` (the products with the
    largest shares, for what no list holds). A candidate missing from an
    anchor's list gets that anchor's shrunk share term alone. ``weights``
    weigh the anchors (recent purchases more); ``size`` is the basket's
    number of products before adding (default: the anchors'). The anchors
    themselves are never candidates; ties go to the lower id.
    """
    size = len(anchors) if size is None else size
    known = {product: anchor for product, anchor in anchors.items() if anchor.baskets > 0}
    weights = {product: (weights or {}).get(product, 1.0) for product in known}
    total_weight = sum(weights.values())
    # Off its list an anchor gives a candidate the share term m·share/(baskets + m):
    # every candidate gets Σ weight × that, and its list entries replace their term.
    share_factor = sum(
        weights[product] * rules.shrinkage / (anchor.baskets + rules.shrinkage) for product, anchor in known.items()
    )
    shares = dict(prior)
    listed = defaultdict(float)
    for product, anchor in known.items():
        off_list = rules.shrinkage / (anchor.baskets + rules.shrinkage)
        for neighbour in anchor.neighbours:
            shares.setdefault(neighbour.product_id, neighbour.shares)
            listed[neighbour.product_id] += weights[product] * (
                neighbour.confidence - off_list * neighbour.shares.share
            )
    scores = {}
    for candidate, candidate_shares in shares.items():
        if candidate in anchors:
            continue
        if total_weight:
            mean = (share_factor * candidate_shares.share + listed.get(candidate, 0.0)) / total_weight
        else:
            mean = candidate_shares.share  # nothing known of the cart: what is added anywhere
        scores[candidate] = mean * candidate_shares.at(size + 1) / math.pow(candidate_shares.share, 1.0 + LIFT)
    return sorted(scores, key=lambda candidate: (-scores[candidate], candidate))


@dataclass(frozen=True)
class Model:
    """What the rules learn from a set of baskets."""

    lists: dict[int, list[Neighbour]]  # product -> its list, best first
    baskets: dict[int, float]  # product -> weighted baskets of two or more holding it
    shares: dict[int, Shares]
    counts: Counter  # product -> baskets holding it (any size within the cap)

    def anchors(self, products: Iterable[int]) -> dict[int, Anchor]:
        return {product: Anchor(self.baskets.get(product, 0.0), self.lists.get(product, ())) for product in products}

    def prior(self, k) -> list[tuple[int, Shares]]:
        """The ``k`` products with the largest shares, ties by id, as the database ranks them."""
        ranked = sorted(self.shares.items(), key=lambda item: (-item[1].share, item[0]))
        return ranked[:k]

    def bestsellers(self, k) -> list[int]:
        """Products in the most baskets; ties by id, as the database ranks them."""
        return [product for product, _ in sorted(self.counts.items(), key=lambda item: (-item[1], item[0]))[:k]]


def learn(
    baskets: Sequence[tuple[Iterable[int], datetime | None]], rules: Rules, *, now: datetime | None = None,
    shards: int = 1,
) -> Model:
    """Learn the lists from (products, placed at) baskets, holding about 1/shards of the pair counts at once.

    Ages are taken from ``now`` (baskets without a time, or no ``now``: weight
    1). Most pairs are bought together once and are dropped by
    ``min_co_count``, so memory is dominated by the counting: with ``shards``
    > 1 the baskets are read once per shard, each pass counting only the
    pairs whose smaller product id falls in that shard.
    """
    counts = Counter()
    baskets_of = defaultdict(float)
    share_of = defaultdict(float)
    share_by_size = {size: defaultdict(float) for size in SIZES}
    total, total_by_size = 0.0, dict.fromkeys(SIZES, 0.0)
    for products, basket_weight in _within_cap(baskets, rules, now):
        counts.update(products)
        size = len(products)
        if size < 2:
            continue
        bucket = size_bucket(size)
        whole, part = quantised(basket_weight), quantised(basket_weight / size)
        total += whole
        total_by_size[bucket] += whole
        for product in products:
            baskets_of[product] += whole
            share_of[product] += part
            share_by_size[bucket][product] += part

    shares = {}
    for product, share_sum in share_of.items():
        share = share_sum / total
        shares[product] = Shares(share, tuple(
            size_share(share_by_size[size].get(product, 0.0), total_by_size[size], share, rules.shrinkage)
            for size in SIZES
        ))

    survivors = []  # (a, b, co, together) with a < b
    for shard in range(shards):
        pairs, together = Counter(), defaultdict(float)
        for products, basket_weight in _within_cap(baskets, rules, now):
            if len(products) < 2:
                continue
            part = quantised(basket_weight / (len(products) - 1))
            for pair in combinations(products, 2):
                if pair[0] % shards == shard:
                    pairs[pair] += 1
                    together[pair] += part
        survivors.extend((a, b, co, together[a, b]) for (a, b), co in pairs.items() if co >= rules.min_co_count)
        del pairs, together

    candidates = defaultdict(list)
    for a, b, co, weighted in survivors:
        for anchor, other in ((a, b), (b, a)):
            value = confidence(weighted, shares[other].share, baskets_of[anchor], rules.shrinkage)
            candidates[anchor].append(Neighbour(other, value, co, shares[other]))
    lists = {
        product: sorted(found, key=lambda n: (-list_score(n.confidence, n.shares), n.product_id))[: rules.list_length]
        for product, found in candidates.items()
    }
    return Model(lists=lists, baskets=dict(baskets_of), shares=shares, counts=counts)


def _within_cap(baskets, rules, now):
    for products, placed in baskets:
        products = sorted(set(products))
        if len(products) <= rules.max_order_items:
            age = (now - placed).total_seconds() if now is not None and placed is not None else None
            yield products, 1.0 if age is None else weight(age, rules)
