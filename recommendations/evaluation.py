"""Offline evaluation: does "also bought" predict what shoppers buy together?

Some orders are held out and the lists are learnt from all other orders, with
the production rules and score (``scoring``). Which are held out is the split:

- ``customers`` (the store's orders): each customer's last order;
- ``baskets`` (market-basket data, where each basket is its own customer and
  the per-customer split would train on nothing): the latest ``holdout`` share
  of baskets when every basket has a time, a seeded random share otherwise.

A split that leaves nothing to train on, or nothing to evaluate, is refused
(``EvaluationError``) rather than reported as zeros. Then, for
every held-out order and every product in it, the product's top 10 is checked
against the other products of that order:

- hit rate: the share of those queries whose top 10 holds at least one of them;
- recall: the share of them found in the top 10, averaged over the queries.

The baseline answers every query with the store's 10 most bought products
(the queried one left out). Held-out orders of one product have nothing to
predict and are skipped, and so are orders over the cap, as in production.
Products never bought in training have an empty list: a miss, not a skip.
"""
import csv
import random
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .scoring import Rules, also_bought_lists

K = 10
SPLITS = ("customers", "baskets")
# One pass over the training baskets per million of them: bounds the pair counts held at once.
BASKETS_PER_SHARD = 1_000_000


@dataclass(frozen=True, slots=True)
class Order:
    customer: str
    placed: tuple  # sorts the customer's orders: (timestamp, position in the source)
    products: tuple[int, ...]


class EvaluationError(ValueError):
    """The orders cannot be evaluated as asked; the message says why and what to try."""


def evaluate(
    orders: Iterable[Order], rules: Rules, *, k: int = K, split: str = "customers", holdout: float = 0.2, seed: int = 0
) -> dict:
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
    model = also_bought_lists(train, rules, shards=1 + len(train) // BASKETS_PER_SHARD)
    popular = model.bestsellers(k + 1)
    evaluated = queries = 0
    hits = recall = baseline_hits = baseline_recall = covered = 0.0
    for products in test:
        if not 2 <= len(products) <= rules.max_order_items:
            continue
        evaluated += 1
        for product in products:
            others = set(products) - {product}
            found = others.intersection(model.top(product, k))
            found_by_baseline = others.intersection([p for p in popular if p != product][:k])
            queries += 1
            covered += bool(model.lists.get(product))
            hits += bool(found)
            recall += len(found) / len(others)
            baseline_hits += bool(found_by_baseline)
            baseline_recall += len(found_by_baseline) / len(others)

    if not queries:
        raise EvaluationError(
            f"Nothing to evaluate: none of the {len(test)} held-out orders has 2 to {rules.max_order_items} products."
        )

    def share(total):
        return round(total / queries, 4)

    return {
        "split": split,
        "orders": evaluated,
        "queries": queries,
        "train_orders": len(train),
        f"hit_rate_at_{k}": share(hits),
        f"recall_at_{k}": share(recall),
        f"baseline_hit_rate_at_{k}": share(baseline_hits),
        f"baseline_recall_at_{k}": share(baseline_recall),
        "coverage": share(covered),  # queries whose product had a list at all
    }


def _hold_out_last(orders) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
    by_customer = defaultdict(list)
    for order in orders:
        by_customer[order.customer].append(order)
    train, test = [], []
    for history in by_customer.values():
        history.sort(key=lambda order: order.placed)
        train.extend(order.products for order in history[:-1])
        test.append(history[-1].products)
    return train, test


def _hold_out_share(orders, holdout, seed) -> tuple[list[tuple[int, ...]], list[tuple[int, ...]]]:
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
    return [order.products for order in orders[:cut]], [order.products for order in orders[cut:]]


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
