"""Staff's admin in a real browser at 1280 px: the dashboard, the product list and an order's page fit and break no policy."""
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from orders.models import Status
from tests.e2e.helpers import seed_catalog
from tests.e2e.test_csp import csp_violations
from tests.factories import PASSWORD, OrderFactory, OrderItemFactory, UserFactory

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.django_db(transaction=True),
    pytest.mark.browser_context_args(viewport={"width": 1280, "height": 800}),
]


def log_in(page, user):
    page.goto("/admin/login/")
    page.get_by_label("Username").fill(user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_the_staff_pages_fit_1280_px_without_policy_violations(page, shoot):
    catalog = seed_catalog(extra=[("Hearth Kettle", 2)])
    order = OrderFactory(status=Status.PAID, total=Decimal("59.00"))
    OrderItemFactory(order=order, product=catalog.products["Acme Wireless Headphones"])
    violations = csp_violations(page)
    log_in(page, UserFactory(is_staff=True, is_superuser=True))

    expect(page.get_by_role("link", name="Waiting to be packed")).to_be_visible()
    assert fits(page)
    shoot(page, "staff-dashboard")

    page.get_by_role("link", name="Products with fewer than 5 in stock").click()
    expect(page.locator("#result_list")).to_contain_text("Hearth Kettle")
    page.goto("/admin/catalog/product/")
    expect(page.locator("#result_list .field-available").first).to_be_visible()
    shoot(page, "staff-product-list")
    assert fits(page)
    assert page.evaluate("(r => r.scrollWidth <= r.clientWidth)(document.querySelector('#changelist .results'))")

    page.goto(f"/admin/orders/order/{order.pk}/change/")
    page.get_by_role("button", name="Mark packed").click()
    expect(page.locator(".messagelist")).to_contain_text(f"Order {order.number} packed.")
    expect(page.get_by_label("Tracking number")).to_be_visible()
    assert fits(page)
    shoot(page, "staff-order")
    assert violations == []
