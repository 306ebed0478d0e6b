"""Catalog staff work in the Django admin; shoppers never get in."""
from decimal import Decimal

import pytest

from catalog.models import Inventory, Product
from tests.factories import BrandFactory, InventoryFactory, ProductFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/catalog/product/"


@pytest.fixture
def staff_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def change_url(product):
    return f"/admin/catalog/product/{product.pk}/change/"


def test_shopper_is_refused(client):
    product = ProductFactory()
    client.force_login(UserFactory())
    for url in (CHANGELIST, change_url(product)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_anonymous_visitor_is_refused(client):
    assert client.get(CHANGELIST).status_code == 302


def test_staff_sees_changelist_and_change_page(staff_client):
    product = ProductFactory(title="Walnut Desk")
    InventoryFactory(product=product, quantity=7, reserved=2)
    assert "Walnut Desk" in staff_client.get(CHANGELIST).content.decode()
    response = staff_client.get(change_url(product))
    assert response.status_code == 200
    assert 'name="inventory-0-quantity"' in response.content.decode()


def test_search_by_title_or_brand(staff_client):
    ProductFactory(title="Walnut Desk", brand=BrandFactory(name="Oakworks"))
    ProductFactory(title="Pine Shelf", brand=BrandFactory(name="Acme"))
    assert _listed(staff_client, q="walnut") == ["Walnut Desk"]
    assert _listed(staff_client, q="acme") == ["Pine Shelf"]
    assert _listed(staff_client, q="oakworks desk") == ["Walnut Desk"]


def test_in_stock_filter(staff_client):
    InventoryFactory(product=ProductFactory(title="Sellable"), quantity=3, reserved=1)
    InventoryFactory(product=ProductFactory(title="All reserved"), quantity=3, reserved=3)
    ProductFactory(title="No stock row")
    assert _listed(staff_client, in_stock="yes") == ["Sellable"]
    assert sorted(_listed(staff_client, in_stock="no")) == ["All reserved", "No stock row"]


def test_bulk_deactivate_and_activate(staff_client):
    products = ProductFactory.create_batch(3)
    ids = [p.pk for p in products[:2]]
    staff_client.post(CHANGELIST, {"action": "deactivate", "_selected_action": ids})
    assert set(Product.objects.filter(is_active=False).values_list("pk", flat=True)) == set(ids)
    staff_client.post(CHANGELIST, {"action": "activate", "_selected_action": ids})
    assert Product.objects.filter(is_active=False).count() == 0


def test_price_is_editable_in_the_list(staff_client):
    product = ProductFactory(price=Decimal("10.00"))
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(product.pk),
        "form-0-price": "12.50",
        "_save": "Save",
    }
    staff_client.post(CHANGELIST, data)
    product.refresh_from_db()
    assert product.price == Decimal("12.50")


@pytest.mark.parametrize(
    "price, error",
    [
        ("-1.00", "Ensure this value is greater than or equal to 0."),
        ("12.345", "Ensure that there are no more than 2 decimal places."),
        ("100000000.00", "Ensure that there are no more than 10 digits in total."),
        ("ten", "Enter a number."),
    ],
)
def test_a_bad_price_in_the_list_is_an_error_and_changes_nothing(staff_client, price, error):
    product = ProductFactory(price=Decimal("10.00"))
    data = {
        "form-TOTAL_FORMS": "1",
        "form-INITIAL_FORMS": "1",
        "form-0-id": str(product.pk),
        "form-0-price": price,
        "_save": "Save",
    }
    response = staff_client.post(CHANGELIST, data)
    assert response.status_code == 200 and error in response.content.decode()
    product.refresh_from_db()
    assert product.price == Decimal("10.00")


def _inline_post(product, row, quantity, **extra):
    return {
        "seller": product.seller_id,
        "category": product.category_id,
        "brand": product.brand_id,
        "title": product.title,
        "slug": product.slug,
        "description": product.description,
        "price": str(product.price),
        "attributes": "{}",
        "is_active": "on",
        "inventory-TOTAL_FORMS": "1",
        "inventory-INITIAL_FORMS": "1",
        "inventory-MIN_NUM_FORMS": "0",
        "inventory-MAX_NUM_FORMS": "1000",
        "inventory-0-id": str(row.pk),
        "inventory-0-product": str(product.pk),
        "inventory-0-quantity": str(quantity),
        **extra,
    }


def test_staff_changes_stock_without_touching_reservations(staff_client):
    row = InventoryFactory(quantity=10, reserved=4)
    response = staff_client.post(change_url(row.product), _inline_post(row.product, row, 25))
    assert response.status_code == 302
    row.refresh_from_db()
    assert (row.quantity, row.reserved) == (25, 4)


def test_stock_below_what_carts_reserved_is_a_form_error(staff_client):
    row = InventoryFactory(quantity=10, reserved=4)
    response = staff_client.post(change_url(row.product), _inline_post(row.product, row, 3))
    assert response.status_code == 200
    assert "4 units are reserved in carts" in response.content.decode()
    row.refresh_from_db()
    assert (row.quantity, row.reserved) == (10, 4)


def test_negative_stock_is_a_form_error(staff_client):
    row = InventoryFactory(quantity=10)
    response = staff_client.post(change_url(row.product), _inline_post(row.product, row, -1))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Stock cannot be negative." in page
    assert "reserved in carts" not in page  # not a reservation problem: nothing is reserved
    row.refresh_from_db()
    assert row.quantity == 10


def test_stock_row_with_reservations_cannot_be_deleted(staff_client):
    row = InventoryFactory(quantity=10, reserved=1)
    post = _inline_post(row.product, row, 10, **{"inventory-0-DELETE": "on"})
    response = staff_client.post(change_url(row.product), post)
    assert response.status_code == 200
    assert "cannot remove a stock row while 1 units are reserved in carts" in response.content.decode()
    assert Inventory.objects.filter(pk=row.pk).exists()


def _listed(client, **params):
    response = client.get(CHANGELIST, params)
    assert response.status_code == 200
    return [product.title for product in response.context["cl"].result_list]


# --- hand-made requests: a message or a form error, never a 500 (found by tests/site/test_form_fuzz.py) ---


def test_emptying_the_attributes_box_saves_no_attributes(staff_client):
    row = InventoryFactory(quantity=10)
    Product.objects.filter(pk=row.product_id).update(attributes={"color": "Black"})
    response = staff_client.post(change_url(row.product), _inline_post(row.product, row, 10, attributes=""))
    assert response.status_code == 302
    assert Product.objects.get(pk=row.product_id).attributes == {}


@pytest.mark.parametrize("brand", [":", "99999999999999999999999", "-1"])
def test_a_brand_that_is_no_id_is_a_form_error(staff_client, brand):
    row = InventoryFactory(quantity=10)
    response = staff_client.post(change_url(row.product), _inline_post(row.product, row, 10, brand=brand))
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert Product.objects.get(pk=row.product_id).brand_id == row.product.brand_id


@pytest.mark.parametrize("selected", ["", "abc", str(2**63)])
def test_an_action_on_ids_that_are_no_ids_changes_nothing(staff_client, selected):
    product = ProductFactory()
    response = staff_client.post(
        CHANGELIST, {"action": "deactivate", "_selected_action": [str(product.pk), selected], "index": "0"}, follow=True
    )
    assert response.status_code == 200
    assert "Items must be selected by their ids. No items have been changed." in response.content.decode()
    assert Product.objects.get(pk=product.pk).is_active


def test_an_order_list_for_an_impossible_year_is_refused_like_any_bad_filter(staff_client):
    response = staff_client.get("/admin/orders/order/", {"created_at__year": "99999999999999999999999"})
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("query", [{"status__exact": "\x00"}, {"q": "cable\x00"}])
def test_a_nul_byte_in_a_list_filter_or_search_is_refused_like_any_bad_filter(staff_client, query):
    response = staff_client.get("/admin/orders/order/", query)
    assert response.status_code == 302 and response["Location"].endswith("?e=1")


@pytest.mark.parametrize("to_field", ["+", "no_such_field"])
def test_a_to_field_that_is_no_field_is_refused_not_a_server_error(staff_client, to_field):
    response = staff_client.get("/admin/catalog/category/add/", {"_to_field": to_field})
    assert response.status_code == 400


def test_the_list_shows_available_and_total_stock_and_a_thumbnail_in_a_bounded_number_of_queries(
    staff_client, django_assert_max_num_queries
):
    split = ProductFactory(title="Two warehouses")
    InventoryFactory(product=split, quantity=7, reserved=2)
    InventoryFactory(product=split, quantity=3)
    ProductFactory(title="Never stocked")
    for _ in range(20):
        InventoryFactory(quantity=4, reserved=1)
    staff_client.get(CHANGELIST)  # the session, the category tree: read once

    with django_assert_max_num_queries(6) as queries:  # session, user, the two filters' choices, count, page
        response = staff_client.get(CHANGELIST)
    [count] = [query["sql"] for query in queries.captured_queries if "COUNT(" in query["sql"]]
    assert "catalog_inventory" not in count

    rows = {product.title: (product.available_stock, product.total_stock) for product in response.context["cl"].result_list}
    assert rows["Two warehouses"] == (8, 10) and rows["Never stocked"] == (None, None)
    body = response.content.decode()
    assert '<td class="field-available">8</td><td class="field-total_stock">10</td>' in body
    assert '<svg class="product-image placeholder"' in body and "css/staff.css" in body
