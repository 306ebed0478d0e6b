""""Your orders" lists what each order holds, and an order's page shows the steps still ahead."""
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Status
from tests.factories import OrderFactory, OrderItemFactory, ProductFactory, UserFactory, order_with_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def shopper(client):
    user = UserFactory()
    client.force_login(user)
    return user


def orders_with_items(user, count, items=2):
    for _ in range(count):
        order = OrderFactory(user=user)
        for _ in range(items):
            OrderItemFactory(order=order, quantity=3)


def test_the_orders_list_shows_each_orders_items_with_picture_and_quantity(client, shopper):
    order = OrderFactory(user=shopper)
    OrderItemFactory(order=order, product=ProductFactory(title="Blue Kettle"), title="Blue Kettle", quantity=2)
    OrderItemFactory(order=order, product=None, title="A Lamp No Longer Sold", quantity=1)

    body = client.get("/orders/").content.decode()

    assert "Blue Kettle" in body and "Qty 2" in body
    assert 'alt="Blue Kettle"' in body  # the catalog's picture (its drawn one here: no photo)
    assert "A Lamp No Longer Sold" in body and "Qty 1" in body  # a product gone from the catalog keeps its title


def test_a_page_of_orders_costs_the_same_queries_for_one_order_or_ten(client, shopper):
    orders_with_items(shopper, 1)
    with CaptureQueriesContext(connection) as one:
        client.get("/orders/")
    orders_with_items(shopper, 9, items=3)
    with CaptureQueriesContext(connection) as ten:
        response = client.get("/orders/")

    assert len(response.context["orders"]) == 10
    assert response.content.decode().count('class="order-card-item"') == 2 + 9 * 3
    assert len(ten) == len(one), [query["sql"] for query in ten]


@pytest.mark.parametrize(
    ("status", "upcoming"),
    [
        (Status.PENDING, ["Paid", "Packed", "Shipped", "Delivered"]),
        (Status.PAID, ["Packed", "Shipped", "Delivered"]),
        (Status.PACKED, ["Shipped", "Delivered"]),
        (Status.SHIPPED, ["Delivered"]),
        (Status.DELIVERED, []),
        (Status.CANCELLED, []),
        (Status.RETURNED, []),
    ],
)
def test_the_timeline_shows_the_steps_still_ahead(client, shopper, status, upcoming):
    order = order_with_item(status=status, user=shopper)

    response = client.get(f"/orders/{order.number}/")

    assert response.context["upcoming"] == upcoming
    assert response.content.decode().count('class="order-timeline-upcoming"') == len(upcoming)
