"""Issue 17's acceptance, in Chromium: sign up and confirm, buy from two warehouses, two parcels, a return, a refund.

Every mail is read from a real SMTP server on loopback (aiosmtpd). Staff work
in the admin in a second browser context, as a second person would.
"""
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from catalog.models import Inventory
from orders.models import Order, Payment, Status
from tests.factories import PASSWORD, InventoryFactory, ProductFactory, UserFactory, WarehouseFactory

from .helpers import GOOD_CARD, add_to_cart, fill_address, fill_card, message

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def subjects(smtp_server):
    return [mail["Subject"] for _, mail in smtp_server]


def text_of(mail):
    return mail.get_body(("plain",)).get_content()


def test_two_parcels_tracked_and_one_unit_returned_for_a_partial_refund(page, browser, browser_context_args, smtp_server, shoot):
    newark, seattle = WarehouseFactory(code="EWR1", name="Newark, NJ"), WarehouseFactory(code="SEA3", name="Seattle, WA")
    kettle = ProductFactory(title="Hearth Kettle", price=Decimal("20.00"))
    lamp = ProductFactory(title="Lumen Desk Lamp", price=Decimal("30.00"))
    InventoryFactory(product=kettle, warehouse=newark, quantity=5)
    InventoryFactory(product=lamp, warehouse=seattle, quantity=5)

    # Sign up with an e-mail address, and confirm it from the mail.
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill("grace")
    page.get_by_label("E-mail address").fill("grace@example.com")
    page.get_by_label(re.compile(r"^Password:?$")).fill("a compiler for cobol 1959")
    page.get_by_label("Password confirmation").fill("a compiler for cobol 1959")
    page.get_by_role("button", name="Create account").click()
    expect(message(page, "Welcome, grace!")).to_be_visible()
    assert subjects(smtp_server) == ["Confirm your e-mail address"]
    link = re.search(r"https?://\S+/accounts/email/confirm/\S+/", text_of(smtp_server[0][1])).group(0)
    page.goto(link)
    page.get_by_role("button", name="Confirm my address").click()
    expect(message(page, "grace@example.com is confirmed")).to_be_visible()

    # Buy a kettle (held in Newark) and a lamp (held in Seattle): the review says two parcels.
    add_to_cart(page, kettle, 1)
    add_to_cart(page, lamp, 1)
    page.get_by_role("link", name="Proceed to checkout").click()
    fill_address(page)
    expect(page.locator(".delivery-estimate")).to_contain_text("Arrives in 2 parcels")
    fill_card(page, GOOD_CARD)
    page.get_by_role("button", name="Place your order · $50.00").click()
    expect(page.get_by_role("heading", name="Thank you, your order has been placed.")).to_be_visible()
    order = Order.objects.get(user__username="grace")
    first, second = order.shipments.order_by("id")
    assert (first.warehouse, second.warehouse) == (newark, seattle)

    # Staff pack and ship each parcel from the order's admin page, then mark both delivered.
    staff_context = browser.new_context(**browser_context_args)
    staff = staff_context.new_page()
    clerk = UserFactory(is_staff=True, is_superuser=True)
    staff.goto("/admin/login/")
    staff.get_by_label("Username").fill(clerk.username)
    staff.get_by_label("Password").fill(PASSWORD)
    staff.get_by_role("button", name="Log in").click()
    staff.goto(f"/admin/orders/order/{order.pk}/change/")
    for shipment, carrier, number in ((first, "UPS", "1ZE2E0001"), (second, "FedEx", "FX0002")):
        parcel = staff.locator(f"#shipment-{shipment.pk}")
        parcel.get_by_role("button", name="Mark packed").click()
        expect(staff.locator(".messagelist")).to_contain_text(f"Parcel {shipment.pk} of order {order.number} packed.")
        parcel.get_by_label("Carrier").fill(carrier)
        parcel.get_by_label("Tracking number").fill(number)
        parcel.get_by_role("button", name="Ship").click()
        expect(staff.locator(".messagelist")).to_contain_text(f"Parcel {shipment.pk} of order {order.number} shipped.")
    shoot(staff, "staff-order-parcels")
    for shipment in (first, second):
        staff.locator(f"#shipment-{shipment.pk}").get_by_role("button", name="Mark delivered").click()
        expect(staff.locator(".messagelist")).to_contain_text("delivered.")

    # The shopper sees both parcels with their carriers' tracking links.
    page.goto(f"/orders/{order.number}/")
    expect(page.locator(".order-status")).to_have_text("Delivered")
    links = page.locator("a.tracking-link")
    expect(links).to_have_count(2)
    expect(links.nth(0)).to_have_attribute("href", "https://www.ups.com/track?tracknum=1ZE2E0001")
    expect(links.nth(1)).to_have_attribute("href", "https://www.fedex.com/fedextrack/?trknbr=FX0002")

    # One kettle goes back.
    page.get_by_label("Hearth Kettle: units to return").select_option("1")
    page.get_by_label("Reason").select_option(label="Arrived damaged or faulty")
    page.get_by_role("button", name="Request a return").click()
    expect(message(page, "Your return is requested.")).to_be_visible()
    ret = order.returns.get()

    # Staff receive it, restockable: the refund is the kettle's price (shipping was free, no tax).
    staff.reload()
    returned = staff.locator(f"#return-{ret.pk}")
    expect(returned.get_by_label("Goods can be sold again")).to_be_checked()
    returned.get_by_role("button", name="Received: refund").click()
    expect(staff.locator(".messagelist")).to_contain_text(f"Return {ret.pk} of order {order.number} received and refunded.")

    page.reload()
    expect(page.locator(".order-return")).to_contain_text("Refunded $20.00")
    shoot(page, "order-partly-returned")
    order.refresh_from_db()
    assert order.status == Status.DELIVERED  # the lamp is kept
    assert list(Payment.objects.filter(order=order, kind="refund").values_list("amount", flat=True)) == [Decimal("20.00")]
    assert Inventory.objects.get(product=kettle, warehouse=newark).quantity == 5  # back on the Newark shelf
    assert Inventory.objects.get(product=lamp, warehouse=seattle).quantity == 4

    assert subjects(smtp_server) == [
        "Confirm your e-mail address",
        f"Your order {order.number} is confirmed",
        f"Your order {order.number} has shipped",
        f"Your order {order.number} has shipped",
        f"Your order {order.number} was delivered",
        f"We received your return for order {order.number}",
    ]
    assert all(to == ["grace@example.com"] for to, _ in smtp_server)
    shipped = [text_of(mail) for _, mail in smtp_server[2:4]]
    assert "https://www.ups.com/track?tracknum=1ZE2E0001" in shipped[0] and "Hearth Kettle" in shipped[0]
    assert "https://www.fedex.com/fedextrack/?trknbr=FX0002" in shipped[1]
    assert "We refunded $20.00" in text_of(smtp_server[-1][1])
    staff_context.close()
