"""Offline evaluation: does "also bought" predict what shoppers buy together?

Each customer's last order is held out and the lists are learnt from all
other orders, with the production rules and score (``scoring``). Then, for
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
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from .scoring import Rules, also_bought_lists

K = 10
# One pass over the training baskets per million of them: bounds the pair counts held at once.
BASKETS_PER_SHARD = 1_000_000


@dataclass(frozen=True, slots=True)
class Order:
    customer: str
    placed: tuple  # sorts the customer's orders: (timestamp, position in the source)
    products: tuple[int, ...]


def evaluate(orders: Iterable[Order], rules: Rules, *, k: int = K) -> dict:
    train, test = _hold_out_last(orders)
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

    def share(total):
        return round(total / queries, 4) if queries else 0.0

    return {
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


def orders_from_database(baskets) -> list[Order]:
    """``selectors.paid_baskets()`` as evaluation orders."""
    return [Order(str(b.customer_id), (b.created_at.timestamp(), b.order_id), b.products) for b in baskets]


def orders_from_csv(path) -> list[Order]:
    """Rows of ``order_id,customer_id,product_id[,timestamp]``, one per order line, header optional.

    Without a timestamp a customer's orders are taken in the order they first
    appear in the file. A timestamp is ISO 8601 (UTC unless it says otherwise)
    or seconds since the epoch. Numeric product ids are kept, so a CSV export
    of the store's orders evaluates exactly as the database does; any other id
    is given a negative number of its own.
    """
    lines = defaultdict(set)
    orders = {}  # order id -> (customer, placed), in order of first appearance
    names = {}
    with open(path, newline="") as source:
        for position, row in enumerate(csv.reader(source)):
            if not row or (position == 0 and row[0].strip().lower() == "order_id"):
                continue
            order_id, customer, product = (value.strip() for value in row[:3])
            timestamp = _timestamp(row[3]) if len(row) > 3 and row[3].strip() else 0.0
            orders.setdefault(order_id, (customer, (timestamp, position)))
            lines[order_id].add(int(product) if product.isdigit() else names.setdefault(product, -1 - len(names)))
    return [Order(customer, placed, tuple(sorted(lines[order_id]))) for order_id, (customer, placed) in orders.items()]


def _timestamp(value: str) -> float:
    value = value.strip()
    try:
        return float(value)
    except ValueError:
        moment = datetime.fromisoformat(value)
        return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()
