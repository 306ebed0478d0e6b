"""The operator's commands for a shop run without Celery: the beat jobs, run from cron or by hand."""
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.utils import timezone

from cart import services as cart_services
from cart.models import Reservation
from catalog.models import Inventory
from orders.models import CancelReason, ChargeState, Status
from tests.factories import OrderFactory, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db

COMMANDS = ("release_expired_reservations", "send_queued_mail", "settle_unfinished_checkouts")


def run(name):
    out = StringIO()
    call_command(name, stdout=out)
    return out.getvalue().strip()


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_explains_itself(name):
    command = load_command_class(get_commands()[name], name)
    text = command.create_parser("manage.py", name).format_help()
    assert "beat" in text and "usage: manage.py " + name in text


def test_release_expired_reservations_frees_only_the_holds_that_ran_out():
    product = stocked_product(10)
    lapsed, fresh = cart_services.get_or_create_cart(), cart_services.get_or_create_cart()
    cart_services.add_to_cart(lapsed.pk, product.pk, 2, now=timezone.now() - timedelta(days=1))
    cart_services.add_to_cart(fresh.pk, product.pk, 3)

    assert run("release_expired_reservations") == "Released 1 expired reservations."
    assert run("release_expired_reservations") == "Released 0 expired reservations."

    assert Inventory.objects.get(product=product).reserved == 3
    assert list(Reservation.objects.values_list("line__cart_id", flat=True)) == [fresh.pk]
    assert stock_invariant_violations() == []


def test_settle_unfinished_checkouts_cancels_an_old_checkout_the_gateway_never_charged(settings):
    old = timezone.now() - timedelta(minutes=settings.ORDER_UNFINISHED_CHECKOUT_MINUTES + 1)
    stuck = OrderFactory(status=Status.PENDING, charge_state=ChargeState.CHARGING, created_at=old)
    recent = OrderFactory(status=Status.PENDING, charge_state=ChargeState.CHARGING)

    assert run("settle_unfinished_checkouts").startswith("Settled 1 unfinished checkouts")

    stuck.refresh_from_db()
    recent.refresh_from_db()
    assert (stuck.status, stuck.cancel_reason, stuck.charge_state) == (
        Status.CANCELLED, CancelReason.PAYMENT_FAILED, ChargeState.SETTLED
    )
    assert recent.status == Status.PENDING
