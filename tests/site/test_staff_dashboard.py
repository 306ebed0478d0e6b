"""The staff dashboard on the admin index: its figures, where they lead, and who sees them."""
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.utils import timezone

from amazon_site.core import dashboard
from amazon_site.events import selectors as event_selectors
from amazon_site.events.models import OutboxEvent
from catalog import selectors as catalog_selectors
from orders import selectors as order_selectors
from orders.models import CancelReason, ChargeState, Return, ReturnReason, ReturnStatus, Status
from tests.factories import InventoryFactory, OrderFactory, ProductFactory, UserFactory
from tests.site.test_security import inline_code

pytestmark = pytest.mark.django_db

WEDNESDAY_NOON = datetime(2026, 12, 2, 12, 0, tzinfo=UTC)
MONDAY = datetime(2026, 11, 30, tzinfo=UTC)


@pytest.fixture
def superuser_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def figures(panel):
    return {figure.label: figure for figure in panel}


def listed(client, url):
    """What the change list a figure links to counts, as the dashboard writes it."""
    response = client.get(url)
    assert response.status_code == 200, url
    return f"{response.context['cl'].result_count:,}"


def test_the_week_starts_on_monday_midnight_utc():
    sunday_night_elsewhere = datetime(2026, 12, 7, 1, 0, tzinfo=timezone.get_fixed_timezone(120))  # 23:00 UTC Sunday
    assert dashboard.day_start(sunday_night_elsewhere) == datetime(2026, 12, 6, tzinfo=UTC)
    assert dashboard.week_start(sunday_night_elsewhere) == MONDAY
    assert dashboard.week_start(MONDAY) == MONDAY


def test_orders_figures_count_the_day_and_the_week_in_utc():
    OrderFactory(status=Status.PAID, created_at=WEDNESDAY_NOON - timedelta(hours=1), total=Decimal("10.50"))
    OrderFactory(status=Status.SHIPPED, created_at=WEDNESDAY_NOON - timedelta(hours=11), total=Decimal("5.25"))
    OrderFactory(status=Status.PENDING, created_at=WEDNESDAY_NOON - timedelta(hours=2), total=Decimal("99.00"))
    OrderFactory(status=Status.PACKED, created_at=MONDAY + timedelta(hours=1), total=Decimal("100.00"))
    OrderFactory(
        status=Status.CANCELLED, cancel_reason=CancelReason.PAYMENT_FAILED, created_at=MONDAY, total=Decimal("7.00")
    )
    OrderFactory(status=Status.DELIVERED, created_at=MONDAY - timedelta(seconds=1), total=Decimal("1000.00"))
    OrderFactory(status=Status.PAID, created_at=MONDAY - timedelta(days=3), charge_state=ChargeState.UNANSWERED)
    returned = OrderFactory(status=Status.DELIVERED, created_at=MONDAY - timedelta(days=30))
    for state in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.REFUSED, ReturnStatus.RECEIVED):
        Return.objects.create(order=returned, status=state, reason=ReturnReason.DAMAGED)

    shown = figures(order_selectors.staff_dashboard(now=WEDNESDAY_NOON))

    assert {label: figure.value for label, figure in shown.items()} == {
        "Orders today": "3",
        "Revenue today (USD)": "15.75",
        "Orders this week": "5",
        "Revenue this week (USD)": "115.75",
        "Waiting to be packed": "2",
        "Waiting to be shipped": "1",
        "Failed payments this week": "1",
        "Unconfirmed checkouts": "1",
        "Returns waiting": "2",
    }
    assert shown["Returns waiting"].url == "/admin/orders/return/?status__in=requested%2Capproved"
    assert shown["Waiting to be packed"].attention and not shown["Orders today"].attention


def test_an_empty_shop_shows_zeros():
    shown = figures(order_selectors.staff_dashboard())
    assert shown["Revenue this week (USD)"].value == "0.00"
    assert not any(figure.attention for figure in shown.values())


def test_counts_stop_at_their_cap():
    for _ in range(3):
        OrderFactory(status=Status.PAID)
    figure = dashboard.counted("Paid", order_selectors.Order.objects.order_by(), "/", cap=2)
    assert figure.value == "2+"


def test_each_orders_figure_links_to_the_change_list_of_what_it_counts(superuser_client):
    now = timezone.now()
    OrderFactory(status=Status.PAID, total=Decimal("10.00"))
    OrderFactory(status=Status.PACKED, created_at=dashboard.week_start(now))
    OrderFactory(status=Status.CANCELLED, cancel_reason=CancelReason.PAYMENT_FAILED)
    OrderFactory(status=Status.PENDING, charge_state=ChargeState.CHARGING)
    OrderFactory(status=Status.DELIVERED, created_at=dashboard.week_start(now) - timedelta(days=1))

    for figure in order_selectors.staff_dashboard(now=now):
        if "Revenue" in figure.label:
            paid = superuser_client.get(figure.url).context["cl"].result_list
            assert f"{sum(order.total for order in paid):,.2f}" == figure.value
        else:
            assert listed(superuser_client, figure.url) == figure.value, figure.label


def test_low_stock_counts_active_products_below_the_threshold(superuser_client, settings):
    settings.STAFF_LOW_STOCK_THRESHOLD = 4
    low = ProductFactory(title="Nearly gone")
    InventoryFactory(product=low, quantity=5, reserved=3)
    InventoryFactory(product=low, quantity=1)  # 3 unreserved over both warehouses
    sold_out = ProductFactory(title="Sold out")
    InventoryFactory(product=sold_out, quantity=2, reserved=2)
    InventoryFactory(product=ProductFactory(title="Plenty"), quantity=4)
    InventoryFactory(product=ProductFactory(title="Retired", is_active=False), quantity=1)
    ProductFactory(title="Never stocked")

    [figure] = catalog_selectors.staff_dashboard()

    assert (figure.label, figure.value, figure.attention) == ("Products with fewer than 4 in stock", "2", True)
    response = superuser_client.get(figure.url)
    assert sorted(product.title for product in response.context["cl"].result_list) == ["Nearly gone", "Sold out"]


def test_low_stock_reads_a_bounded_number_of_stock_rows_and_says_there_may_be_more(monkeypatch):
    for _ in range(3):
        InventoryFactory(quantity=1)
    monkeypatch.setattr(catalog_selectors, "LOW_STOCK_ROWS_READ", 2)
    [figure] = catalog_selectors.staff_dashboard()
    assert figure.value == "2+"


def test_the_outbox_backlog_and_its_age(superuser_client):
    OutboxEvent.objects.all().delete()
    now = timezone.now()
    OutboxEvent.objects.create(topic="orders", key="1", payload={}, created_at=now - timedelta(minutes=7))
    OutboxEvent.objects.create(topic="orders", key="2", payload={}, created_at=now)
    OutboxEvent.objects.create(topic="orders", key="3", payload={}, published_at=now)

    backlog, age = event_selectors.staff_dashboard(now=now)

    assert (backlog.value, age.value) == ("2", "7")
    assert listed(superuser_client, backlog.url) == "2"


def test_the_index_shows_the_panels_with_the_store_name_and_no_inline_code(superuser_client, settings):
    settings.STORE_NAME = "Corner Shop"
    OrderFactory(status=Status.PAID)

    response = superuser_client.get("/admin/")

    body = response.content.decode()
    assert response.status_code == 200
    assert [panel.title for panel in response.context["dashboard"]] == ["Orders", "Catalog", "Events"]
    assert "Waiting to be packed" in body and "/admin/orders/order/?status__exact=paid" in body
    assert "<title>Dashboard | Corner Shop staff</title>" in body and "Corner Shop</a>" in body
    assert inline_code(body) == []


def test_staff_see_only_the_panels_of_what_they_may_view(client):
    clerk = UserFactory(is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(clerk)
    assert [panel.title for panel in client.get("/admin/").context["dashboard"]] == ["Orders"]

    client.force_login(UserFactory(is_staff=True))
    response = client.get("/admin/")
    assert response.context["dashboard"] == [] and "Waiting to be packed" not in response.content.decode()


def test_shoppers_and_visitors_never_see_the_dashboard(client):
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
    client.force_login(UserFactory())
    assert client.get("/admin/")["Location"].startswith("/admin/login/")
