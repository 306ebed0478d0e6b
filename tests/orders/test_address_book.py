"""The address book: add, edit, delete, set the default (which checkout offers first); orders keep their copy."""
import pytest
from django.db import IntegrityError, transaction

from orders import checkout
from orders.addresses import delete_address, set_default
from orders.models import Address
from tests.factories import OrderFactory, UserFactory

pytestmark = pytest.mark.django_db

HOME = {"full_name": "Ada Lovelace", "line1": "1 Analytical Way", "line2": "", "city": "London",
        "postal_code": "N1 9GU", "country": "GB", "phone": ""}
WORK = {**HOME, "line1": "2 Difference Street", "postal_code": "N2 1AA"}


@pytest.fixture
def shopper(client):
    user = UserFactory()
    client.force_login(user)
    return user


def test_an_address_is_added_from_the_page(client, shopper):
    response = client.post("/account/addresses/", {**HOME, "country": "gb"}, follow=True)
    assert "The address is saved." in response.content.decode()
    assert "1 Analytical Way" in response.content.decode()
    assert Address.objects.get(user=shopper).country == "GB"


def test_a_bad_address_is_a_form_error_and_saves_nothing(client, shopper):
    response = client.post("/account/addresses/", {**HOME, "postal_code": "!!", "city": ""})
    assert response.status_code == 200
    assert "Enter a valid postal code." in response.content.decode()
    assert not Address.objects.exists()


def test_an_address_is_edited_and_the_order_keeps_its_copy(client, shopper):
    address = checkout.save_address(user=shopper, data=HOME)
    order = OrderFactory(user=shopper, shipping_address=address.as_dict())
    assert client.get(f"/account/addresses/{address.pk}/edit/").status_code == 200
    response = client.post(f"/account/addresses/{address.pk}/edit/", {**HOME, "line1": "3 New Road"}, follow=True)
    assert "The address is updated." in response.content.decode()
    address.refresh_from_db()
    order.refresh_from_db()
    assert (address.line1, order.shipping_address["line1"]) == ("3 New Road", "1 Analytical Way")


def test_setting_the_default_moves_it_and_checkout_offers_it_first(client, shopper):
    home = checkout.save_address(user=shopper, data=HOME)
    work = checkout.save_address(user=shopper, data=WORK)
    client.post(f"/account/addresses/{home.pk}/default/")
    client.post(f"/account/addresses/{work.pk}/default/")
    assert list(Address.objects.filter(user=shopper, is_default=True)) == [work]
    client.post(f"/account/addresses/{home.pk}/default/")
    assert list(Address.objects.filter(user=shopper).values_list("pk", "is_default")) == [(home.pk, True), (work.pk, False)]
    page = client.get("/account/addresses/").content.decode()
    assert "Default address" in page


def test_deleting_the_default_makes_the_newest_the_default(client, shopper):
    home = checkout.save_address(user=shopper, data=HOME)
    work = checkout.save_address(user=shopper, data=WORK)
    set_default(user=shopper, address_id=home.pk)
    response = client.post(f"/account/addresses/{home.pk}/delete/", follow=True)
    assert "The address is deleted." in response.content.decode()
    assert list(Address.objects.filter(user=shopper).values_list("pk", "is_default")) == [(work.pk, True)]
    delete_address(user=shopper, address_id=work.pk)
    assert not Address.objects.filter(user=shopper).exists()


def test_the_database_keeps_one_default_per_shopper(shopper):
    Address.objects.create(user=shopper, is_default=True, **HOME)
    Address.objects.create(user=UserFactory(), is_default=True, **HOME)  # another shopper's default is no clash
    with pytest.raises(IntegrityError), transaction.atomic():
        Address.objects.create(user=shopper, is_default=True, **WORK)


def test_another_shoppers_address_is_not_found(client, shopper):
    theirs = checkout.save_address(user=UserFactory(), data=HOME)
    assert client.get(f"/account/addresses/{theirs.pk}/edit/").status_code == 404
    for action in ("delete", "default"):
        assert client.post(f"/account/addresses/{theirs.pk}/{action}/").status_code == 404
    assert Address.objects.filter(pk=theirs.pk, is_default=False).exists()
