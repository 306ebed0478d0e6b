"""catalog.stock on its own: reserving, releasing, selling, restocking, the locks, staff edits.

Every test locks rows itself, as carts and checkout do, and checks both the
rows and what the function handed back.
"""
import threading

import pytest
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from amazon_site.events.models import OutboxEvent
from catalog import stock
from catalog.models import Inventory
from catalog.stock import Allocation, StockError, StockErrorCode
from tests.factories import InventoryFactory, ProductFactory, WarehouseFactory

pytestmark = pytest.mark.django_db

postgresql_only = pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks")


def product_with(*rows):
    """A product with one stock row per (quantity, reserved), in warehouses created in that order."""
    product = ProductFactory()
    warehouses = []
    for quantity, reserved in rows:
        warehouse = WarehouseFactory()
        InventoryFactory(product=product, warehouse=warehouse, quantity=quantity, reserved=reserved)
        warehouses.append(warehouse.pk)
    return product, warehouses


def rows_of(product):
    """(quantity, reserved) per stock row, in warehouse order."""
    return list(Inventory.objects.filter(product=product).order_by("warehouse_id").values_list("quantity", "reserved"))


def locked(*products):
    return stock.lock(product.pk for product in products)


# --- reserve ---


@pytest.mark.parametrize(
    ("rows", "wanted", "taken"),
    [
        ([(2, 0), (5, 0)], 3, [(1, 3)]),  # the most available warehouse first, whole
        ([(2, 0), (5, 3)], 3, [(0, 2), (1, 1)]),  # a tie (2 and 2) goes to the lower warehouse id
        ([(4, 0), (1, 0), (3, 0)], 8, [(0, 4), (2, 3), (1, 1)]),  # across every warehouse, fullest first
    ],
)
def test_reserve_draws_on_the_most_available_warehouse_first(rows, wanted, taken):
    product, warehouses = product_with(*rows)
    with transaction.atomic():
        allocations = stock.reserve(locked(product), product.pk, wanted)
    assert allocations == [Allocation(warehouses[index], units) for index, units in taken]
    assert rows_of(product) == [
        (quantity, reserved + sum(units for index, units in taken if index == position))
        for position, (quantity, reserved) in enumerate(rows)
    ]


def test_reserve_on_short_stock_takes_what_is_left_then_nothing():
    product, _ = product_with((1, 0), (3, 2))
    with transaction.atomic():
        rows = locked(product)
        assert sum(allocation.quantity for allocation in stock.reserve(rows, product.pk, 5)) == 2
        assert stock.reserve(rows, product.pk, 1) == []
    assert rows_of(product) == [(1, 1), (3, 3)]


def test_reserve_records_one_event_per_change_and_none_for_nothing():
    product, [warehouse] = product_with((2, 0))
    with transaction.atomic():
        rows = locked(product)
        stock.reserve(rows, product.pk, 2)
        stock.reserve(rows, product.pk, 1)
    [event] = OutboxEvent.objects.filter(topic="inventory", key=str(product.pk))
    assert event.payload == {
        "type": "stock.reserved",
        "product_id": product.pk,
        "warehouses": [{"warehouse_id": warehouse, "quantity": 2}],
    }


def test_on_a_shortage_lapsed_holds_are_freed_first_and_drawn_on(monkeypatch):
    product, [warehouse] = product_with((3, 3))  # all held, by holds that ran out
    calls = []

    def releaser(rows, product_ids, now=None):
        calls.append((sorted(rows.product_ids()), product_ids, now))
        stock.release(rows, product.pk, [Allocation(warehouse, 2)])
        return 1

    monkeypatch.setattr(stock, "_lapsed_releaser", releaser)
    with transaction.atomic():
        rows = locked(product)
        assert stock.reserve(rows, product.pk, 1, now="the caller's now") == [Allocation(warehouse, 1)]
    assert calls == [([product.pk], [product.pk], "the caller's now")]
    assert rows_of(product) == [(3, 2)]


def test_lapsed_holds_are_left_alone_while_stock_suffices(monkeypatch):
    product, _ = product_with((3, 1))
    monkeypatch.setattr(stock, "_lapsed_releaser", lambda *args, **kwargs: pytest.fail("released without a shortage"))
    with transaction.atomic():
        stock.reserve(locked(product), product.pk, 2)
    assert rows_of(product) == [(3, 3)]


# --- release ---


def test_release_gives_back_exactly_the_units_named():
    product, warehouses = product_with((3, 3), (2, 2))
    with transaction.atomic():
        stock.release(locked(product), product.pk, [Allocation(warehouses[1], 1)])
    assert rows_of(product) == [(3, 3), (2, 1)]


def test_release_from_empties_the_smallest_holdings_first():
    product, [first, second, third] = product_with((5, 4), (5, 1), (5, 2))
    held = [Allocation(first, 4), Allocation(second, 1), Allocation(third, 2)]
    with transaction.atomic():
        released = stock.release_from(locked(product), product.pk, held, 4)
    assert released == [Allocation(second, 1), Allocation(third, 2), Allocation(first, 1)]
    assert rows_of(product) == [(5, 3), (5, 0), (5, 0)]


@pytest.mark.parametrize("units", [3, 0, -1])
def test_stock_is_never_released_beyond_what_is_reserved(units):
    product, [warehouse] = product_with((5, 2))
    with transaction.atomic():
        with pytest.raises(StockError) as refused:
            stock.release(locked(product), product.pk, [Allocation(warehouse, units)])
    assert refused.value.code == StockErrorCode.NOT_RESERVED
    assert rows_of(product) == [(5, 2)]


def test_only_locked_rows_can_be_changed():
    product, [warehouse] = product_with((5, 2))
    other, _ = product_with((5, 2))
    with transaction.atomic():
        with pytest.raises(StockError) as refused:
            stock.release(locked(other), product.pk, [Allocation(warehouse, 1)])
    assert refused.value.code == StockErrorCode.NOT_LOCKED
    assert rows_of(product) == [(5, 2)]


# --- sell and restock ---


def test_sell_takes_reserved_units_off_the_shelf_and_the_reservation():
    product, warehouses = product_with((5, 3), (4, 1))
    with transaction.atomic():
        stock.sell(locked(product), product.pk, [Allocation(warehouses[0], 2), Allocation(warehouses[1], 1)])
    assert rows_of(product) == [(3, 1), (3, 0)]


def test_what_is_not_reserved_cannot_be_sold():
    product, [warehouse] = product_with((5, 1))
    with transaction.atomic():
        with pytest.raises(StockError) as refused:
            stock.sell(locked(product), product.pk, [Allocation(warehouse, 2)])
    assert refused.value.code == StockErrorCode.NOT_RESERVED
    assert rows_of(product) == [(5, 1)]


def test_restock_puts_units_back_where_they_came_from():
    product, warehouses = product_with((0, 0), (1, 1))
    with transaction.atomic():
        stock.restock(locked(product), product.pk, [Allocation(warehouses[0], 2)])
    assert rows_of(product) == [(2, 0), (1, 1)]


@pytest.mark.parametrize("units", [0, -2])
def test_restock_refuses_nothing_or_less(units):
    product, [warehouse] = product_with((1, 0))
    with transaction.atomic():
        with pytest.raises(StockError) as refused:
            stock.restock(locked(product), product.pk, [Allocation(warehouse, units)])
    assert refused.value.code == StockErrorCode.INVALID_QUANTITY
    assert rows_of(product) == [(1, 0)]


# --- the locks ---


def test_all_rows_are_locked_in_product_then_warehouse_order_in_one_statement():
    first, _ = product_with((1, 0), (1, 0))
    second, _ = product_with((1, 0))
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        rows = stock.lock([second.pk, first.pk, second.pk])
    [query] = queries.captured_queries
    assert "ORDER BY product_id, warehouse_id" in query["sql"]
    if connection.features.has_select_for_update:
        assert query["sql"].endswith("FOR UPDATE")
    assert rows.product_ids() == {first.pk, second.pk}
    assert len(rows.rows(first.pk)) == 2


def test_nothing_to_lock_is_no_query():
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        assert stock.lock([]).product_ids() == set()
    assert queries.captured_queries == []


@pytest.mark.django_db(transaction=True)
def test_stock_is_only_locked_inside_a_transaction():
    product, _ = product_with((5, 0))
    with pytest.raises(StockError, match="inside a transaction") as refused:
        stock.lock([product.pk])
    assert refused.value.code == StockErrorCode.NOT_IN_TRANSACTION


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_skip_locked_leaves_out_rows_another_transaction_holds():
    busy, _ = product_with((1, 0))
    free, _ = product_with((1, 0))
    holding, done = threading.Event(), threading.Event()

    def other_transaction():
        try:
            with transaction.atomic():
                stock.lock([busy.pk])
                holding.set()
                done.wait(timeout=30)
        finally:
            connection.close()

    thread = threading.Thread(target=other_transaction)
    thread.start()
    try:
        assert holding.wait(timeout=30)
        with transaction.atomic():
            assert stock.lock([busy.pk, free.pk], skip_locked=True).product_ids() == {free.pk}
    finally:
        done.set()
        thread.join(timeout=30)


# --- the database backs the arithmetic up ---


@pytest.mark.parametrize(
    ("quantity", "reserved", "constraint"),
    [
        (3, 4, "inventory_reserved_within_quantity"),
        (3, -1, "inventory_reserved_non_negative"),
        (-1, 0, "inventory_quantity_non_negative"),
    ],
)
def test_a_raw_update_breaking_0_le_reserved_le_quantity_is_refused(quantity, reserved, constraint):
    row = InventoryFactory(quantity=3, reserved=1)
    with pytest.raises(IntegrityError, match=constraint), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Inventory._meta.db_table} SET quantity = %s, reserved = %s WHERE id = %s",
            [quantity, reserved, row.pk],
        )
    row.refresh_from_db()
    assert (row.quantity, row.reserved) == (3, 1)


def test_a_locked_row_written_past_its_quantity_is_refused():
    product, _ = product_with((2, 2))
    with pytest.raises(IntegrityError, match="inventory_reserved_within_quantity"), transaction.atomic():
        [row] = locked(product).rows(product.pk)
        row.reserved += 1
        stock._save(row)
    assert rows_of(product) == [(2, 2)]


# --- staff edits ---


def test_staff_set_the_shelf_without_touching_what_carts_reserved(django_capture_on_commit_callbacks):
    product, _ = product_with((10, 4))
    row = Inventory.objects.get(product=product)
    assert stock.cached_available(product.pk) == 6
    with django_capture_on_commit_callbacks(execute=True):
        assert stock.set_quantity(row.pk, 25).quantity == 25
    assert rows_of(product) == [(25, 4)]
    assert stock.cached_available(product.pk) == 21  # the edit dropped the cached count
    [event] = OutboxEvent.objects.filter(topic="inventory")
    assert event.payload == {
        "type": "stock.adjusted", "product_id": product.pk, "warehouse_id": row.warehouse_id,
        "quantity": 25, "previous_quantity": 10,
    }


def test_staff_cannot_set_stock_below_what_carts_reserved():
    product, _ = product_with((10, 4))
    row = Inventory.objects.get(product=product)
    with pytest.raises(StockError, match="cannot set stock to 3, 4 units are reserved in carts") as refused:
        stock.set_quantity(row.pk, 3)
    assert refused.value.code == StockErrorCode.BELOW_RESERVED
    assert stock.set_quantity(row.pk, 4).quantity == 4  # all of it reserved is fine
    assert rows_of(product) == [(4, 4)]


def test_negative_stock_has_its_own_message():
    row = InventoryFactory(quantity=10)
    for edit in (lambda: stock.set_quantity(row.pk, -3), lambda: stock.add_row(row.product_id, WarehouseFactory().pk, -1)):
        with pytest.raises(StockError, match="^Stock cannot be negative.$") as refused:
            edit()
        assert refused.value.code == StockErrorCode.NEGATIVE
    row.refresh_from_db()
    assert row.quantity == 10
    assert Inventory.objects.filter(product=row.product).count() == 1


def test_staff_add_and_remove_stock_rows():
    product, _ = product_with((2, 0))
    row = stock.add_row(product.pk, WarehouseFactory().pk, 4)
    assert rows_of(product) == [(2, 0), (4, 0)]
    stock.delete_row(row.pk)
    assert rows_of(product) == [(2, 0)]
    events = OutboxEvent.objects.filter(topic="inventory").order_by("id")
    assert [(event.payload["quantity"], event.payload["previous_quantity"]) for event in events] == [(4, 0), (0, 4)]


def test_a_stock_row_carts_hold_units_of_cannot_be_removed():
    product, _ = product_with((10, 1))
    row = Inventory.objects.get(product=product)
    with pytest.raises(StockError, match="while 1 units are reserved in carts") as refused:
        stock.delete_row(row.pk)
    assert refused.value.code == StockErrorCode.ROW_RESERVED
    assert rows_of(product) == [(10, 1)]
