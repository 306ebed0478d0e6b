"""Offline evaluation, worked by hand on a small order set, on real baskets, and on seed_orders data.

The hand-made set (product ids: A-E are 1-5), each customer's orders in time
order, the last one held out:

    c1: {A,B} {A,B} | {A,B}
    c2: {C,D} {C,D} | {C,D}
    c3: {E} ×5      | {E}        one product: nothing to predict, skipped

Training: n(A) = n(B) = n(C) = n(D) = 2, n(E) = 5; pairs AB 2 and CD 2. Of each
held-out pair one product is hidden and the other is the cart; whichever:

    method       cart A (or B)     cart C (or D)     HitRate  MRR
    store        B (A) first       D (C) first       1        1
    popularity   E, then B (A)     E, A, B, then D   1        (1/2 + 1/4) / 2
                                    (C: E, A, B, C)
    cosine       B (A) alone       D (C) alone       1        1
    (also with the store's old minimum co-count 2 and 20 per list)

Coverage, of the 5 products bought in training: the store shows A-D (E was
never bought with anything: no share, never a candidate), popularity all 5,
the cosine one product per cart, 2.
"""
import csv
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from catalog.models import Product
from catalog.seeding import seed_catalog
from orders.models import Order, OrderItem
from recommendations import evaluation, selectors
from recommendations.scoring import Rules
from tests.factories import CategoryFactory, UserFactory, stocked_product
from tests.recommendations.helpers import place

A, B, C, D, E = 1, 2, 3, 4, 5
HISTORIES = {
    "c1": [[A, B], [A, B], [A, B]],
    "c2": [[C, D], [C, D], [C, D]],
    "c3": [[E]] * 6,
}
BY_HAND = {
    "store": (1.0, 1.0, 0.8),
    "store (8 cards)": (1.0, 1.0, 0.8),
    "popularity": (1.0, 0.375, 1.0),
    "item-item cosine": (1.0, 1.0, 0.4),
    "cosine, co-count ≥ 2, 20 per list": (1.0, 1.0, 0.4),  # the store's ranking before: AB and CD are seen twice
}
RULES = Rules(max_order_items=50, min_co_count=2, list_length=20)


def csv_rows():
    """Lines of the hand-made set, customers interleaved so only the order of orders matters."""
    rows, number = [], 0
    longest = max(len(orders) for orders in HISTORIES.values())
    for position in range(longest):
        for customer, orders in HISTORIES.items():
            if position < len(orders):
                number += 1
                rows.extend(f"o{number},{customer},{product}" for product in orders[position])
    return rows


def figures(result):
    return {row["method"]: (row["hit_rate_at_10"], row["mrr_at_10"], row["coverage"]) for row in result["methods"]}


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_hand_made_set_scores_as_worked_out_by_hand(tmp_path, capsys, settings, seed):
    settings.RECOMMENDATIONS_MAX_ORDER_ITEMS = 50
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,product_id\n" + "\n".join(csv_rows()) + "\n")

    call_command("evaluate_recommendations", orders_csv=str(path), seed=[seed], json=True)

    result = json.loads(capsys.readouterr().out)
    assert (result["dataset"], result["split"], result["orders"], result["train_orders"]) == (
        "orders.csv", "customers", 2, 9
    )
    assert figures(result) == BY_HAND


def test_the_table_has_a_row_per_seed_and_method(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(csv_rows()))

    call_command("evaluate_recommendations", orders_csv=str(path), seed=[0, 1])

    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "| dataset | split | seed | method | HitRate@10 | MRR@10 | coverage |"
    assert len(lines) == 2 + 2 * len(BY_HAND)
    assert lines[2].startswith("| orders.csv | customers (9 train, 2 carts) | 0 | store | 1.0000 | 1.0000 | 0.8000 |")


def test_timestamps_order_a_customers_orders_whatever_the_file_order(tmp_path):
    # c1's orders listed newest first: with timestamps, {A,B,C} is still the one held out.
    path = tmp_path / "orders.csv"
    lines = [
        "9,c1,1,2024-03-03T10:00:00", "9,c1,2,2024-03-03T10:00:00", "9,c1,3,2024-03-03T10:00:00",
        "8,c1,1,1709380800", "8,c1,2,1709380800",
        "7,c1,1,2024-03-01T10:00:00+00:00", "7,c1,2,2024-03-01T10:00:00+00:00",
    ]
    path.write_text("\n".join(lines))

    orders = evaluation.orders_from_csv(path)
    result = evaluation.evaluate(orders, RULES)

    assert (result["orders"], result["train_orders"]) == (1, 2)
    held_out = {row["method"]: row for row in result["methods"]}
    assert held_out["store"]["hit_rate_at_10"] == 1.0  # A and B were bought together twice before


def test_product_ids_that_are_not_numbers_are_evaluated_too(tmp_path):
    names = {A: "sku-a", B: "sku-b", C: "sku-c", D: "sku-d"}
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(
        f"{order},{customer},{names[product]}"
        for order, (customer, products) in enumerate(
            [("c1", [A, B]), ("c1", [A, B]), ("c1", [A, B, C]), ("c2", [C, D]), ("c2", [C, D]), ("c2", [C, D])]
        )
        for product in products
    ))

    result = evaluation.evaluate(evaluation.orders_from_csv(path), RULES)

    assert (result["orders"], result["train_orders"]) == (2, 4)
    assert figures(result)["store"][0] == 1.0  # each held-out order has a product bought with the others


@pytest.mark.django_db
def test_the_database_evaluates_as_its_csv_export_does(tmp_path, settings):
    settings.RECOMMENDATIONS_MAX_ORDER_ITEMS = 50
    category = CategoryFactory()
    products = {}
    for key in [A, B, C, D, E]:  # created in id order: ties break the same way
        products[key] = stocked_product(5, category=category)
    customers = {name: UserFactory(password=None) for name in HISTORIES}
    for position in range(max(len(orders) for orders in HISTORIES.values())):
        for customer, orders in HISTORIES.items():
            if position < len(orders):
                place(*(products[key] for key in orders[position]), user=customers[customer])

    from_database = evaluation.evaluate(evaluation.orders_from_database(selectors.paid_baskets()), RULES)

    assert figures(from_database) == BY_HAND
    export = tmp_path / "export.csv"
    export.write_text("\n".join(
        f"{item.order_id},{item.order.user_id},{item.product_id},{item.order.created_at.isoformat()}"
        for item in OrderItem.objects.select_related("order")
    ))
    assert evaluation.evaluate(evaluation.orders_from_csv(export), RULES) == from_database


@pytest.mark.django_db
def test_on_seeded_orders_the_store_clearly_beats_popularity(capsys):
    seed_catalog(600, seed=3)
    call_command("seed_orders", orders=6000, seed=3, verbosity=0)

    capsys.readouterr()
    call_command("evaluate_recommendations", json=True)

    result = json.loads(capsys.readouterr().out)
    found = figures(result)
    assert result["orders"] > 500
    assert found["store"][0] > 2 * found["popularity"][0] and found["store"][1] > 2 * found["popularity"][1]


@pytest.mark.django_db
def test_seed_orders_writes_consistent_orders_for_synthetic_customers():
    seed_catalog(200, seed=5)

    call_command("seed_orders", orders=500, seed=5, verbosity=0)

    orders = Order.objects.prefetch_related("items")
    assert orders.count() == 500
    assert orders.values("user").distinct().count() <= 100
    active = set(Product.objects.filter(is_active=True).values_list("pk", flat=True))
    for order in orders:
        assert order.number.startswith("SYN-")
        assert order.subtotal == sum(item.line_total for item in order.items.all())
        assert order.total == order.subtotal + order.shipping + order.tax
        assert {item.product_id for item in order.items.all()} <= active
        assert bool(order.cancel_reason) == (order.status == "cancelled")
    assert OrderItem.objects.filter(allocations={}).count() == OrderItem.objects.count()  # no stock taken


# Shared real data beside the checkout, never copied into the repository.
BAKERY = next(
    (path for path in (Path(__file__).resolve().parents[3] / "shared/data/bakery-baskets.csv",
                       Path("/work/shared/data/bakery-baskets.csv")) if path.exists()),
    None,
)
BAKERY_COLUMNS = "order=Transaction,product=Item,time=Date+Time"


def market_baskets(tmp_path, *, times):
    """40 baskets of a bakery, one per customer: 1-10 coffee alone, 11-40 bread and jam (and tea for every third).

    With times, the file lists them newest first, so only the times say which are the latest.
    """
    rows = ["Date,Time,Transaction,Item"]
    for number in range(40, 0, -1):
        items = ["Coffee", "NONE"] if number <= 10 else ["Bread", "Jam"] + (["Tea"] if number % 3 == 0 else [])
        moment = f"2017-01-{1 + number // 24:02d},{number % 24:02d}:00:00"
        rows.extend(f"{moment if times else ','},{number},{item}" for item in items)
    path = tmp_path / "baskets.csv"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_one_order_per_customer_is_refused_not_scored_as_zeros(tmp_path, capsys):
    path = tmp_path / "orders.csv"
    lines = [f"o{number},c{number},{product}" for number in range(20) for product in (1, 2)]
    path.write_text("order_id,customer_id,product_id\n" + "\n".join(lines))

    refusal = "Nothing to train on: each of the 20 customers has one order.*--split baskets"
    with pytest.raises(CommandError, match=refusal):
        call_command("evaluate_recommendations", orders_csv=str(path))

    assert capsys.readouterr().out == ""


def test_held_out_orders_with_nothing_to_predict_are_refused(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(["1,c1,1", "1,c1,2", "2,c1,1", "3,c2,1", "3,c2,2", "4,c2,2"]))

    with pytest.raises(evaluation.EvaluationError, match="Nothing to evaluate"):
        evaluation.evaluate(evaluation.orders_from_csv(path), RULES)


def test_the_basket_split_holds_out_the_latest_baskets_when_they_have_times(tmp_path, capsys):
    path = market_baskets(tmp_path, times=True)

    call_command(
        "evaluate_recommendations", orders_csv=str(path), columns=BAKERY_COLUMNS, skip_product=["NONE"],
        split="baskets", json=True,
    )

    result = json.loads(capsys.readouterr().out)
    # The 8 latest of 40 are baskets 33-40, all bread and jam (33, 36 and 39 with tea).
    # The last 8 of the file would be 1-8, coffee alone, with nothing to predict.
    assert (result["split"], result["train_orders"], result["orders"]) == ("baskets", 32, 8)
    assert figures(result)["store"][:2] == (1.0, 1.0)  # bread and jam always come together, tea with them


def test_the_basket_split_holds_out_a_seeded_random_share_without_times(tmp_path):
    path = market_baskets(tmp_path, times=False)
    orders = evaluation.orders_from_csv(
        path, columns=evaluation.parse_columns("order=Transaction,product=Item"), skip_products=["NONE"]
    )

    result = evaluation.evaluate(orders, RULES, split="baskets", holdout=0.25, seed=1)

    assert len(orders) == 40 and all(len(order.products) in (1, 2, 3) for order in orders)
    assert result["train_orders"] == 30
    assert result == evaluation.evaluate(orders, RULES, split="baskets", holdout=0.25, seed=1)  # the seed repeats it
    others = [evaluation.evaluate(orders, RULES, split="baskets", holdout=0.25, seed=seed) for seed in range(2, 6)]
    assert any(other["orders"] != result["orders"] for other in others)  # another seed, another share
    assert result["orders"] > 0 and figures(result)["store"][0] == 1.0


def test_an_empty_training_set_is_refused(tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("1,c1,1\n1,c1,2\n")
    with pytest.raises(evaluation.EvaluationError, match="at least 2 baskets"):
        evaluation.evaluate(evaluation.orders_from_csv(path), RULES, split="baskets")
    with pytest.raises(CommandError, match="Nothing to train on"):
        call_command("evaluate_recommendations", orders_csv=str(path))


def test_a_column_mapping_that_does_not_fit_the_header_is_refused(tmp_path):
    path = market_baskets(tmp_path, times=True)
    with pytest.raises(CommandError, match="The header has no column 'Itm'"):
        call_command("evaluate_recommendations", orders_csv=str(path), columns="order=Transaction,product=Itm")
    with pytest.raises(CommandError, match="needs product"):
        call_command("evaluate_recommendations", orders_csv=str(path), columns="order=Transaction")


@pytest.mark.skipif(BAKERY is None, reason="../shared/data/bakery-baskets.csv is not there (shared data, not in the repository)")
def test_on_a_sample_of_real_bakery_baskets_the_store_beats_popularity_and_the_cosine(tmp_path, capsys):
    # The first 4,000 transactions (about 40%), read as the full file is.
    with open(BAKERY, newline="") as source, open(tmp_path / "sample.csv", "w", newline="") as sample:
        rows = csv.reader(source)
        writer = csv.writer(sample)
        writer.writerow(next(rows))
        writer.writerows(row for row in rows if int(row[2]) <= 4000)
    command = {"orders_csv": str(tmp_path / "sample.csv"), "columns": BAKERY_COLUMNS, "skip_product": ["NONE"]}

    with pytest.raises(CommandError, match="Nothing to train on.*--split baskets"):
        call_command("evaluate_recommendations", **command)
    call_command("evaluate_recommendations", **command, split="baskets", json=True)

    result = json.loads(capsys.readouterr().out)
    found = figures(result)
    assert result["train_orders"] == 3120 and result["orders"] > 350  # the latest 20% of 3,900 baskets held out
    for method in ("popularity", "item-item cosine"):
        assert found["store"][0] > found[method][0] and found["store"][1] > found[method][1], method
