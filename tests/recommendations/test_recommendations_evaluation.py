"""Offline evaluation, worked by hand on a small order set, and on seed_orders data.

The hand-made set (product ids: A-E are 1-5, the fillers F1-F9 are 11-19),
each customer's orders in time order, the last one held out:

    c1: {A,B} {A,B} | {A,B,C}
    c2: {C,D} {C,D} | {C,D}
    c3: {E} {E}     | {E,A}
    c4: {E} {E}     | {E}           one product: nothing to predict, skipped
    c5: {Fi} three times for each filler | {F1}   skipped too

Training: n(A) = n(B) = n(C) = n(D) = 2, n(E) = 4, n(Fi) = 3; pairs AB 2 and CD 2.
Lists: A→B, B→A, C→D, D→C; E has none. The popularity top 10 is E, F1-F9,
then A (ties by id); for E itself it is F1-F9, A.

    query     others  model top   hit  recall   baseline  hit  recall
    A|ABC     B,C     B           1    1/2      E,F…      0    0
    B|ABC     A,C     A           1    1/2      E,F…      0    0
    C|ABC     A,B     D           0    0        E,F…      0    0
    C|CD      D       D           1    1        E,F…      0    0
    D|CD      C       C           1    1        E,F…      0    0
    E|EA      A       -           0    0        F…,A      1    1
    A|EA      E       B           0    0        E,F…      1    1

3 orders, 7 queries: hit rate 4/7, recall 3/7; baseline 2/7 and 2/7.
"""
import json
import os
import subprocess
import sys
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
FILLERS = list(range(11, 20))
HISTORIES = {
    "c1": [[A, B], [A, B], [A, B, C]],
    "c2": [[C, D], [C, D], [C, D]],
    "c3": [[E], [E], [E, A]],
    "c4": [[E], [E], [E]],
    "c5": [[f] for f in FILLERS for _ in range(3)] + [[FILLERS[0]]],
}
BY_HAND = {
    "orders": 3,
    "queries": 7,
    "hit_rate_at_10": round(4 / 7, 4),
    "recall_at_10": round(3 / 7, 4),
    "baseline_hit_rate_at_10": round(2 / 7, 4),
    "baseline_recall_at_10": round(2 / 7, 4),
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


def by_hand(result):
    return {key: result[key] for key in BY_HAND}


def test_the_hand_made_set_scores_as_worked_out_by_hand(tmp_path, capsys, settings):
    settings.RECOMMENDATIONS_MAX_ORDER_ITEMS = 50
    path = tmp_path / "orders.csv"
    path.write_text("order_id,customer_id,product_id\n" + "\n".join(csv_rows()) + "\n")

    call_command("evaluate_recommendations", orders_csv=str(path))

    result = json.loads(capsys.readouterr().out)
    assert by_hand(result) == BY_HAND
    assert result["coverage"] == round(6 / 7, 4)


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

    assert (result["orders"], result["queries"], result["train_orders"]) == (1, 3, 2)
    assert result["hit_rate_at_10"] == round(2 / 3, 4)


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

    assert (result["orders"], result["queries"], result["hit_rate_at_10"]) == (2, 5, round(4 / 5, 4))


@pytest.mark.django_db
def test_the_database_evaluates_as_its_csv_export_does(tmp_path, settings):
    settings.RECOMMENDATIONS_MAX_ORDER_ITEMS = 50
    category = CategoryFactory()
    products = {}
    for key in [A, B, C, D, E, *FILLERS]:  # created in id order: ties break the same way
        products[key] = stocked_product(5, category=category)
    customers = {name: UserFactory(password=None) for name in HISTORIES}
    for position in range(max(len(orders) for orders in HISTORIES.values())):
        for customer, orders in HISTORIES.items():
            if position < len(orders):
                place(*(products[key] for key in orders[position]), user=customers[customer])

    from_database = evaluation.evaluate(evaluation.orders_from_database(selectors.paid_baskets()), RULES)

    assert by_hand(from_database) == BY_HAND
    export = tmp_path / "export.csv"
    export.write_text("\n".join(
        f"{item.order_id},{item.order.user_id},{item.product_id},{item.order.created_at.isoformat()}"
        for item in OrderItem.objects.select_related("order")
    ))
    assert evaluation.evaluate(evaluation.orders_from_csv(export), RULES) == from_database


@pytest.mark.django_db
def test_on_seeded_orders_the_lists_clearly_beat_popularity(capsys):
    seed_catalog(600, seed=3)
    call_command("seed_orders", orders=6000, seed=3, verbosity=0)

    capsys.readouterr()
    call_command("evaluate_recommendations")

    result = json.loads(capsys.readouterr().out)
    assert result["orders"] > 500
    assert result["hit_rate_at_10"] > 2 * result["baseline_hit_rate_at_10"]
    assert result["recall_at_10"] > 2 * result["baseline_recall_at_10"]


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


BAKERY = Path("/work/shared/data/bakery-baskets.csv")  # shared real data, never copied into the repository
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
        "evaluate_recommendations", orders_csv=str(path), columns=BAKERY_COLUMNS, skip_product=["NONE"], split="baskets"
    )

    result = json.loads(capsys.readouterr().out)
    # The 8 latest of 40 are baskets 33-40: 33, 36 and 39 with tea (3 queries each), the others 2 each.
    # The last 8 of the file would be 1-8, coffee alone, with nothing to predict.
    assert (result["split"], result["train_orders"], result["orders"], result["queries"]) == ("baskets", 32, 8, 19)
    assert result["hit_rate_at_10"] == 1.0


def test_the_basket_split_holds_out_a_seeded_random_share_without_times(tmp_path):
    path = market_baskets(tmp_path, times=False)
    orders = evaluation.orders_from_csv(
        path, columns=evaluation.parse_columns("order=Transaction,product=Item"), skip_products=["NONE"]
    )

    result = evaluation.evaluate(orders, RULES, split="baskets", holdout=0.25, seed=1)

    assert len(orders) == 40 and all(len(order.products) in (1, 2, 3) for order in orders)
    assert result["train_orders"] == 30
    assert result == evaluation.evaluate(orders, RULES, split="baskets", holdout=0.25, seed=1)  # the seed repeats it
    # Bread and jam always come together in training, so each predicts the other.
    assert result["orders"] > 0 and result["hit_rate_at_10"] == 1.0


def test_a_column_mapping_that_does_not_fit_the_header_is_refused(tmp_path):
    path = market_baskets(tmp_path, times=True)
    with pytest.raises(CommandError, match="The header has no column 'Itm'"):
        call_command("evaluate_recommendations", orders_csv=str(path), columns="order=Transaction,product=Itm")
    with pytest.raises(CommandError, match="needs product"):
        call_command("evaluate_recommendations", orders_csv=str(path), columns="order=Transaction")


@pytest.mark.skipif(not BAKERY.exists(), reason=f"{BAKERY} is not there (shared data, not in the repository)")
def test_real_bakery_baskets_evaluate_with_the_basket_split():
    command = [sys.executable, "manage.py", "evaluate_recommendations", "--orders-csv", str(BAKERY),
               "--columns", BAKERY_COLUMNS, "--skip-product", "NONE"]
    environment = {**os.environ, "DEBUG": "1"}
    root = Path(__file__).resolve().parents[2]

    refused = subprocess.run(command, capture_output=True, text=True, env=environment, cwd=root, timeout=120)
    assert refused.returncode != 0 and refused.stdout == ""
    assert "Nothing to train on" in refused.stderr and "--split baskets" in refused.stderr

    answered = subprocess.run(
        [*command, "--split", "baskets"], capture_output=True, text=True, env=environment, cwd=root, timeout=120
    )
    assert answered.returncode == 0, answered.stderr
    result = json.loads(answered.stdout)
    assert result["train_orders"] == 7572  # 9,465 baskets, the latest 20% held out
    assert result["orders"] > 1000 and result["queries"] > 2000
    assert 0 < result["hit_rate_at_10"] <= 1 and result["coverage"] > 0.9
