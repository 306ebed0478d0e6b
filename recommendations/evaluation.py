"""Offline evaluation: does the cart's shelf show what shoppers add next?

Some orders are held out and the store learns from all other orders, with the
production rules (``scoring``). Which are held out is the split:

- ``customers`` (the store's orders): each customer's last order;
- ``baskets`` (market-basket data, where each basket is its own customer and
  the per-customer split would train on nothing): the latest ``holdout`` share
  of baskets when every basket has a time, a seeded random share otherwise.

A split that leaves nothing to train on, or nothing to evaluate, is refused
(``EvaluationError``) rather than reported as zeros. Then in every held-out
order of two or more products one product is hidden (a seeded choice) and the
rest is the cart; each method ranks products for that cart:

- ``store``: the cart's shelf, ``scoring.rank_for_basket`` over the lists,
  also cut at the cards the shelf shows (``selectors.SHOWN``);
- ``popularity``: the most bought products;
- ``item-item cosine``: the textbook recommender, Σ over the cart of
  ``co(a, b) / √(n(a)·n(b))`` over every pair, learnt in the same run;
- the same cosine with the store's minimum co-count and list length: the
  store's ranking until December 2026, kept to show a change loses nothing.

HitRate@10 is the share of carts whose hidden product is in the top 10,
MRR@10 the mean of 1/its rank there (0 when absent), coverage the share of
the products bought in training that the method recommends at least once.
Orders over the cap are skipped, as in production.
"""
import csv
import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import combinations

from .scoring import Rules, learn, rank_for_basket
from .selectors import SHOWN

K = 10
SPLITS = ("customers", "baskets")
# One pass over the training baskets per million of them: bounds the pair counts held at once.
BASKETS_PER_SHARD = 1_000_000


@dataclass(frozen=True, slots=True)
class Order:
    customer: str
    placed: tuple  # sorts the customer's orders: (timestamp or 0.0 without one, position in the source)
    products: tuple[int, ...]

    @property
    def time(self) -> datetime | None:
        return datetime.fromtimestamp(self.placed[0], UTC) if self.placed[0] else None


class EvaluationError(ValueError):
    """The orders cannot be evaluated as asked; the message says why and what to try."""


def evaluate(
    orders: Iterable[Order], rules: Rules, *, k: int = K, shown: int = SHOWN, split: str = "customers",
    holdout: float = 0.2, seed: int = 0,
) -> dict:
    """The split's sizes and, per method, ``hit_rate``, ``mrr`` (both at ``k``) and ``coverage``."""
    if split == "customers":
        train, test = _hold_out_last(orders)
    elif split == "baskets":
        train, test = _hold_out_share(orders, holdout, seed)
    else:
        raise EvaluationError(f"Unknown split {split!r}: use one of {', '.join(SPLITS)}.")
    if not test:
        raise EvaluationError("No orders to evaluate.")
    if not train:  # the basket split always keeps one to train on
        raise EvaluationError(
            f"Nothing to train on: each of the {len(test)} customers has one order, and it is the one held out. "
            "For market-basket data (a basket per customer) use --split baskets."
        )
    times = [order.time for order in train]
    now = max(times) if all(times) else None  # ages from the last training order, as a nightly run would
    model = learn([(order.products, order.time) for order in train], rules, now=now,
                  shards=1 + len(train) // BASKETS_PER_SHARD)
    prior = model.prior(rules.list_length)
    popular = model.bestsellers(k + rules.max_order_items)
    baskets = [order.products for order in train]
    cosine_lists = f"cosine, co-count ≥ {rules.min_co_count}, {rules.list_length} per list"
    methods = {
        "store": lambda cart: rank_for_basket(model.anchors(cart), prior, rules),
        "popularity": lambda cart: [product for product in popular if product not in cart],
        "item-item cosine": _Cosine(baskets, rules).rank,
        cosine_lists: _Cosine(baskets, rules, min_co_count=rules.min_co_count, length=rules.list_length).rank,
    }
    cut = {"store": k, f"store ({shown} cards)": shown, "popularity": k, "item-item cosine": k, cosine_lists: k}
    hits, reciprocal, seen = Counter(), Counter(), defaultdict(set)
    rng = random.Random(seed)
    carts = 0
    for products in test:
        if not 2 <= len(products) <= rules.max_order_items:
            continue
        carts += 1
        hidden = rng.choice(products)
        cart = [product for product in products if product != hidden]
        ranked = {name: rank(cart)[:k] for name, rank in methods.items()}
        ranked[f"store ({shown} cards)"] = ranked["store"][:shown]
        for name, found in ranked.items():
            found = found[: cut[name]]
            seen[name].update(found)
            if hidden in found:
                hits[name] += 1
                reciprocal[name] += 1 / (found.index(hidden) + 1)
    if not carts:
        raise EvaluationError(
            f"Nothing to evaluate: none of the {len(test)} held-out orders has 2 to {rules.max_order_items} products."
        )
    catalog = len(model.counts)
    return {
        "split": split,
        "seed": seed,
        "train_orders": len(train),
        "orders": carts,
        "methods": [
            {
                "method": name,
                f"hit_rate_at_{k}": round(hits[name] / carts, 4),
                f"mrr_at_{k}": round(reciprocal[name] / carts, 4),
                "coverage": round(len(seen[name] & model.counts.keys()) / catalog, 4),
            }
            for name in cut
        ],
    }


def table(results: list[dict]) -> str:
    """``evaluate`` results as one Markdown table: dataset, split, seed, method and the figures."""
    lines = [
        "| dataset | split | seed | method | HitRate@10 | MRR@10 | coverage |",
        "|---|---|---|---|---|---|---|",
    ]
    for result in results:
        for row in result["methods"]:
            lines.append(
                f"| {result['dataset']} | {result['split']} ({result['train_orders']} train, {result['orders']} carts) "
                f"| {result['seed']} | {row['method']} | {row['hit_rate_at_10']:.4f} | {row['mrr_at_10']:.4f} "
                f"| {row['coverage']:.4f} |"
            )
    return "\n".join(lines)


class _Cosine:
    """Item-item cosine, a cart's lists added up; by default over every pair bought
    together with whole lists (the textbook baseline), else pairs seen
    ``min_co_count`` times and the best ``length`` per product."""

    def __init__(self, baskets, rules, *, min_co_count=1, length=None):
        counts, together = Counter(), defaultdict(Counter)
        for basket in baskets:
            products = sorted(set(basket))
            if len(products) > rules.max_order_items:
                continue
            counts.update(products)
            for a, b in combinations(products, 2):
                together[a][b] += 1
                together[b][a] += 1
        self.lists = {}
        for product, others in together.items():
            scored = [
                (other, co / math.sqrt(counts[product] * counts[other]), co)
                for other, co in others.items() if co >= min_co_count
            ]
            self.lists[product] = sorted(scored, key=lambda entry: (-entry[1], -entry[2], entry[0]))[:length]

    def rank(self, cart):
        scores = defaultdict(float)
        for product in cart:
            for other, score, _ in self.lists.get(product, ()):
                scores[other] += score
        return sorted((p for p in scores if p not in cart), key=lambda p: (-scores[p], p))


def _hold_out_last(orders) -> tuple[list[Order], list[tuple[int, ...]]]:
    by_customer = defaultdict(list)
    for order in orders:
        by_customer[order.customer].append(order)
    train, test = [], []
    for history in by_customer.values():
        history.sort(key=lambda order: order.placed)
        train.extend(history[:-1])
        test.append(history[-1].products)
    return train, test


def _hold_out_share(orders, holdout, seed) -> tuple[list[Order], list[tuple[int, ...]]]:
    if not 0 < holdout < 1:
        raise EvaluationError(f"The held-out share must be between 0 and 1, not {holdout}.")
    orders = list(orders)
    if len(orders) == 1:
        raise EvaluationError("The basket split needs at least 2 baskets.")
    # Orders read without a time have 0.0 in its place.
    if all(order.placed[0] for order in orders):
        orders.sort(key=lambda order: order.placed)  # learn from the past, predict the latest
    else:
        random.Random(seed).shuffle(orders)
    cut = len(orders) - min(len(orders) - 1, max(1, round(len(orders) * holdout)))
    return orders[:cut], [order.products for order in orders[cut:]]


def orders_from_database(baskets) -> list[Order]:
    """``selectors.paid_baskets()`` as evaluation orders."""
    return [Order(str(b.customer_id), (b.created_at.timestamp(), b.order_id), b.products) for b in baskets]


def orders_from_csv(path, *, columns=None, skip_products=()) -> list[Order]:
    """Rows of ``order_id,customer_id,product_id[,timestamp]``, one per order line, header optional.

    Without a timestamp a customer's orders are taken in the order they first
    appear in the file. A timestamp is ISO 8601 (UTC unless it says otherwise)
    or seconds since the epoch. Numeric product ids are kept, so a CSV export
    of the store's orders evaluates exactly as the database does; any other id
    is given a negative number of its own.

    Other files name their columns in a header, and ``columns`` (see
    ``parse_columns``) maps them: ``order`` and ``product`` are required; a
    file without ``customer`` has a customer per order; ``time`` may join
    several columns (``Date+Time``). Rows whose product is in
    ``skip_products`` (a placeholder such as ``NONE``) are left out.
    """
    lines = defaultdict(set)
    orders = {}  # order id -> (customer, placed), in order of first appearance
    names = {}
    skip = set(skip_products)
    with open(path, newline="") as source:
        rows = csv.reader(source)
        pick = _columns(next(rows, []), columns) if columns else None
        for position, row in enumerate(rows, start=2 if pick else 1):
            if not row or (not pick and position == 1 and row[0].strip().lower() == "order_id"):
                continue
            if pick:
                order_id, customer, product, moment = pick(row)
            elif len(row) < 3:
                raise EvaluationError(f"Line {position}: expected order_id,customer_id,product_id[,timestamp].")
            else:
                order_id, customer, product = (value.strip() for value in row[:3])
                moment = row[3].strip() if len(row) > 3 else ""
            if product in skip:
                continue
            try:
                timestamp = _timestamp(moment) if moment else 0.0
            except ValueError:
                hint = "" if pick else " (a file with other columns needs a column mapping, --columns)"
                raise EvaluationError(f"Line {position}: {moment!r} is not a time{hint}.") from None
            orders.setdefault(order_id, (customer, (timestamp, position)))
            lines[order_id].add(int(product) if product.isdigit() else names.setdefault(product, -1 - len(names)))
    return [Order(customer, placed, tuple(sorted(lines[order_id]))) for order_id, (customer, placed) in orders.items()]


def parse_columns(text: str) -> dict[str, list[str]]:
    """``order=Transaction,product=Item,time=Date+Time`` -> {"order": ["Transaction"], ...}."""
    columns = {}
    for part in filter(None, (piece.strip() for piece in text.split(","))):
        field, _, names = part.partition("=")
        field, names = field.strip(), [name.strip() for name in names.split("+") if name.strip()]
        if field not in ("order", "customer", "product", "time") or not names:
            raise EvaluationError(
                f"Bad column mapping {part!r}: write field=Header for order, product and optionally customer "
                "and time (time=Date+Time joins columns)."
            )
        columns[field] = names
    missing = {"order", "product"} - columns.keys()
    if missing:
        raise EvaluationError(f"The column mapping needs {' and '.join(sorted(missing))}.")
    return columns


def _columns(header, columns):
    """A function reading (order, customer, product, time) from a row, by the header's names."""
    positions = {name.strip(): index for index, name in enumerate(header)}
    unknown = [name for names in columns.values() for name in names if name not in positions]
    if unknown:
        raise EvaluationError(
            f"The header has no column {', '.join(map(repr, unknown))}: it has {', '.join(positions)}."
        )
    index = {field: [positions[name] for name in names] for field, names in columns.items()}

    def cell(row, field):
        return " ".join(row[i].strip() for i in index.get(field, ()) if i < len(row))

    def pick(row):
        order_id = cell(row, "order")
        customer = cell(row, "customer") if "customer" in index else order_id
        return order_id, customer, cell(row, "product"), cell(row, "time")

    return pick


def _timestamp(value: str) -> float:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
