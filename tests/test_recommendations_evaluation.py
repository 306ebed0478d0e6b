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

import pytest
from django.core.management import call_command

from catalog.models import Product
from catalog.seeding import seed_catalog
from orders.models import Order, OrderItem
from recommendations import evaluation, selectors
from recommendations.scoring import Rules
from tests.factories import CategoryFactory, UserFactory, stocked_product
from tests.test_recommendations import place

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
