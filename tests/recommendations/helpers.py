from django.utils import timezone

from orders.models import OrderItem, Status
from tests.factories import OrderFactory, UserFactory


def place(*products, status=Status.PAID, user=None, created_at=None, **fields):
    """An order holding one unit of each product, written directly (no checkout)."""
    order = OrderFactory(
        status=status, user=user or UserFactory(password=None), created_at=created_at or timezone.now(), **fields
    )
    OrderItem.objects.bulk_create(
        OrderItem(order=order, product=p, title=p.title, unit_price=p.price, quantity=1, line_total=p.price)
        for p in products
    )
    return order
