"""Addresses name a country from the list and, for the United States, Canada and Australia, a state from its list.

The checkout page, the address book and the API take the same rule
(``orders.regions``); a bad pair is a clear message and saves nothing.
"""
import uuid

import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from orders import checkout, regions
from orders.models import Address, Order
from orders.payments import Gateway
from tests.factories import UserFactory, stocked_product
from tests.orders.helpers import ADDRESS, add, address_data, card, pay_data, to_review

pytestmark = pytest.mark.django_db

SEATTLE = {**ADDRESS, "city": "Seattle", "postal_code": "98101", "country": "US", "region": "US-WA"}


@pytest.fixture
def shopper(client):
    user = UserFactory()
    client.force_login(user)
    return user


@pytest.fixture
def kettle():
    return stocked_product(20, title="Blue Kettle", price="24.50")


def form_errors(response, form="new_form"):
    return {field: list(errors) for field, errors in response.context[form].errors.items()}


def test_the_form_offers_the_countries_and_the_states_grouped_by_country(client, shopper, kettle):
    add(client, kettle)
    body = client.get("/checkout/").content.decode()
    assert '<select name="country"' in body and '<option value="GB">United Kingdom</option>' in body
    assert len(regions.COUNTRIES) == 249
    assert '<optgroup label="United States">' in body and '<option value="US-WA">Washington</option>' in body
    assert '<option value="CA-ON">Ontario</option>' in body and '<option value="AU-WA">Western Australia</option>' in body
    assert 'data-regions="country"' in body


@pytest.mark.parametrize(
    "country, region, stored",
    [("US", "US-WA", "US-WA"), ("CA", "CA-QC", "CA-QC"), ("AU", "AU-NSW", "AU-NSW"), ("GB", "", "")],
)
def test_an_address_is_saved_with_its_region_and_the_order_copies_it(client, shopper, kettle, country, region, stored):
    add(client, kettle, 2)
    response = client.post("/checkout/", address_data(country=country, region=region))
    assert response["Location"] == "/checkout/review/"
    assert Address.objects.get(user=shopper).region == stored

    review = client.get("/checkout/review/")
    client.post("/checkout/review/", pay_data(review))
    assert Order.objects.get().shipping_address["region"] == stored


def test_the_address_shows_the_state_and_the_countrys_name(client, shopper, kettle):
    add(client, kettle, 2)
    client.post("/checkout/", address_data(**SEATTLE))
    body = client.get("/checkout/review/").content.decode()
    assert 'Seattle, <abbr class="order-address-region" title="Washington">WA</abbr> 98101' in body
    assert "United States" in body


@pytest.mark.parametrize(
    "country, region, error",
    [
        ("US", "", "Choose the state: addresses in United States need one."),
        ("US", "US-XX", "Choose a state of United States from the list."),
        ("US", "AU-WA", "Choose a state of United States from the list."),
        ("CA", "", "Choose the province or territory: addresses in Canada need one."),
        ("AU", "AU-XYZ-LONG", "Choose a state or territory of Australia from the list."),
        ("GB", "US-WA", "Leave the state or region empty: addresses in United Kingdom do not use one here."),
    ],
)
def test_a_missing_or_unknown_region_is_one_clear_error_and_saves_nothing(client, shopper, kettle, country, region, error):
    add(client, kettle)
    response = client.post("/checkout/", address_data(country=country, region=region))
    assert response.status_code == 200
    assert form_errors(response) == {"region": [error]}
    assert 'value="1 Analytical Way"' in response.content.decode()
    assert not Address.objects.exists()


@pytest.mark.parametrize("country", ["USA", "XX", "us-", "<b>"])
def test_an_unknown_country_is_a_clear_error(client, shopper, kettle, country):
    add(client, kettle)
    response = client.post("/checkout/", address_data(country=country, region="US-WA"))
    assert form_errors(response) == {"country": ["Choose a country from the list."]}
    assert not Address.objects.exists()


def test_the_address_book_takes_the_same_form(client, shopper):
    body = client.get("/account/addresses/").content.decode()
    assert '<select name="country"' in body and 'data-regions="country"' in body

    refused = client.post("/account/addresses/", {**SEATTLE, "region": ""})
    assert form_errors(refused, "form") == {"region": ["Choose the state: addresses in United States need one."]}
    assert not Address.objects.exists()

    client.post("/account/addresses/", SEATTLE)
    address = Address.objects.get(user=shopper)
    assert (address.country, address.region) == ("US", "US-WA")

    edit = client.get(f"/account/addresses/{address.pk}/edit/").content.decode()
    assert '<option value="US-WA" selected>Washington</option>' in edit
    refused = client.post(f"/account/addresses/{address.pk}/edit/", {**SEATTLE, "region": "CA-ON"})
    assert form_errors(refused, "form") == {"region": ["Choose a state of United States from the list."]}
    client.post(f"/account/addresses/{address.pk}/edit/", {**SEATTLE, "country": "CA", "region": "CA-ON"})
    address.refresh_from_db()
    assert (address.country, address.region) == ("CA", "CA-ON")


def test_the_services_check_the_pair_too(shopper):
    with pytest.raises(Exception) as raised:
        checkout.save_address(user=shopper, data={**SEATTLE, "region": ""})
    assert raised.value.message_dict == {"region": ["Choose the state: addresses in United States need one."]}
    # The bare code with its country is the same state.
    assert checkout.save_address(user=shopper, data={**SEATTLE, "region": "wa"}).region == "US-WA"


# --- The API: POST /api/checkout/ with a new address ---


@pytest.fixture
def api():
    user = UserFactory()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def api_checkout(client, address):
    product = stocked_product(5)
    client.post("/api/cart/lines/", {"product": product.pk, "quantity": 1}, format="json")
    total = client.get("/api/checkout/").json()["total"]
    return client.post(
        "/api/checkout/", {"address": address, "card": card(), "expected_total": total}, format="json",
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )


def test_the_api_takes_a_region_as_its_iso_code_or_the_bare_code(api):
    placed = api_checkout(api, {**SEATTLE, "country": "us", "region": "wa"})
    assert placed.status_code == 201
    assert placed.json()["shipping_address"]["region"] == "US-WA"
    assert Address.objects.get().region == "US-WA"


@pytest.mark.parametrize(
    "address, errors",
    [
        ({**SEATTLE, "region": ""}, {"address.region": ["Choose the state: addresses in United States need one."]}),
        ({**SEATTLE, "region": "ZZ"}, {"address.region": ["Choose a state of United States from the list."]}),
        ({**SEATTLE, "country": "XX"}, {"address.country": ["Choose a country from the list."]}),
        ({**SEATTLE, "country": "USA"}, {"address.country": ["Choose a country from the list."]}),
        ({**ADDRESS, "region": "US-WA"},
         {"address.region": ["Leave the state or region empty: addresses in United Kingdom do not use one here."]}),
    ],
)
def test_the_api_refuses_a_bad_country_or_region_and_places_nothing(api, address, errors):
    refused = api_checkout(api, address)
    assert refused.status_code == 400 and refused.json()["errors"] == errors
    assert not Address.objects.exists() and not Order.objects.exists()


def test_an_address_without_a_region_still_works_for_a_country_without_regions(api):
    """Clients written before regions existed send none: fine outside the US, Canada and Australia."""
    address = {key: value for key, value in ADDRESS.items() if key != "region"}
    assert api_checkout(api, address).status_code == 201


# --- The payment step's test cards ---


class RealGateway(Gateway):
    """Stands for a real processor: the page must not offer test card numbers with it."""

    name = "real"


def test_the_payment_step_names_the_test_cards_with_the_test_gateway(client, shopper, kettle, settings):
    body = to_review(client, kettle).content.decode()
    assert "Test mode:" in body and "4242 4242 4242 4242" in body and "4000 0000 0000 0002" in body

    settings.PAYMENT_GATEWAY = "tests.orders.test_address_regions.RealGateway"
    body = client.get("/checkout/review/").content.decode()
    assert 'name="card_number"' in body
    assert "Test mode:" not in body and "4242" not in body
