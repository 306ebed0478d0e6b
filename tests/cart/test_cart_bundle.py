"""Adding a bundle ("Frequently bought together"): one unit of each product, in one transaction."""
from datetime import UTC, datetime, timedelta

import pytest

from cart import services
from cart.errors import CartError, CartErrorCode
from cart.models import CartLine, Reservation
from catalog import stock as stock_api
from catalog.models import Inventory
from tests.factories import UserFactory, stock_invariant_violations, stocked_product

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def reserved(product):
    return sum(Inventory.objects.filter(product=product).values_list("reserved", flat=True))


def lines():
    return dict(CartLine.objects.values_list("product__title", "quantity"))


def held():
    return sorted(Reservation.objects.values_list("product__title", "quantity", "reserved_until"))


@pytest.fixture
def trio():
    prices = {"Camera": "249.00", "Cable": "9.99", "Lens": "120.50"}
    return [stocked_product(5, title=title, price=price) for title, price in prices.items()]


def test_each_product_is_reserved_once_in_the_cart_line_and_the_stock(trio):
    cart = services.get_or_create_cart(user=UserFactory(password=None)).pk

    changes = services.add_bundle(cart, [product.pk for product in trio], now=NOW)

    assert [(change.title, change.requested, change.added, change.quantity, change.short) for change in changes] == [
        ("Camera", 1, 1, 1, False), ("Cable", 1, 1, 1, False), ("Lens", 1, 1, 1, False),
    ]
    assert lines() == {"Camera": 1, "Cable": 1, "Lens": 1}
    until = NOW + timedelta(minutes=30)
    assert held() == [("Cable", 1, until), ("Camera", 1, until), ("Lens", 1, until)]
    assert [reserved(product) for product in trio] == [1, 1, 1]
    assert sorted(map(str, CartLine.objects.values_list("unit_price", flat=True))) == ["120.50", "249.00", "9.99"]
    assert stock_invariant_violations() == []


def test_the_stock_of_the_whole_bundle_is_locked_in_one_call(trio, monkeypatch):
    calls = []
    real_lock = stock_api.lock
    monkeypatch.setattr(stock_api, "lock", lambda ids, **options: calls.append(set(ids)) or real_lock(ids, **options))

    services.add_bundle(services.get_or_create_cart().pk, [trio[2].pk, trio[0].pk, trio[1].pk], now=NOW)

    assert calls == [{product.pk for product in trio}]


def test_a_product_out_of_stock_is_reported_and_the_others_are_still_reserved(trio):
    camera, cable, lens = trio
    services.add_to_cart(services.get_or_create_cart().pk, cable.pk, 5, now=NOW)  # someone holds every cable
    cart = services.get_or_create_cart().pk

    changes = services.add_bundle(cart, [camera.pk, cable.pk, lens.pk], now=NOW)

    assert [(change.title, change.added, change.quantity, change.short) for change in changes] == [
        ("Camera", 1, 1, False), ("Cable", 0, 0, True), ("Lens", 1, 1, False),
    ]
    assert dict(CartLine.objects.filter(cart_id=cart).values_list("product__title", "quantity")) == {"Camera": 1, "Lens": 1}
    assert [reserved(product) for product in trio] == [1, 5, 1]
    assert stock_invariant_violations() == []


def test_a_product_already_in_the_cart_gets_one_more_up_to_the_line_limit(trio):
    camera, cable, _ = trio
    cart = services.get_or_create_cart().pk
    services.add_to_cart(cart, camera.pk, 2, now=NOW)
    many_cables = stocked_product(20, title="Spare cable")
    services.add_to_cart(cart, many_cables.pk, 10, now=NOW)

    first, second = services.add_bundle(cart, [camera.pk, many_cables.pk], now=NOW)

    assert (first.added, first.quantity, first.limited) == (1, 3, False)
    assert (second.added, second.quantity, second.limited, second.short) == (0, 10, True, False)
    assert reserved(camera) == 3 and reserved(many_cables) == 10


def test_a_visitors_cap_is_reported_on_the_products_it_cut(settings, trio):
    settings.CART_MAX_HELD_UNITS_PER_CLIENT = 2
    cart = services.get_or_create_cart(client="one-address").pk

    changes = services.add_bundle(cart, [product.pk for product in trio], now=NOW)

    assert [(change.added, change.held_cap, change.short) for change in changes] == [
        (1, False, False), (1, False, False), (0, True, False),
    ]
    assert sum(Reservation.objects.values_list("quantity", flat=True)) == 2


@pytest.mark.parametrize(
    "product_ids, code, message",
    [
        ([], CartErrorCode.INVALID_BUNDLE, "Choose the products to add."),
        (None, CartErrorCode.INVALID_BUNDLE, "Choose the products to add."),
        ("12", CartErrorCode.INVALID_BUNDLE, "Choose the products to add."),
        ("twice", CartErrorCode.INVALID_BUNDLE, "Each product can be added only once."),
        ("four", CartErrorCode.INVALID_BUNDLE, "At most 3 products can be added at once."),
        ("unknown", CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ("inactive", CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ([0], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ([True], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        (["1"], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
        ([2**63], CartErrorCode.NOT_AVAILABLE, "One of these products is not available."),
    ],
)
def test_a_bundle_the_cart_cannot_take_is_refused_whole_and_changes_nothing(trio, product_ids, code, message):
    camera, cable, lens = trio
    retired = stocked_product(5, is_active=False)
    named = {
        "twice": [camera.pk, cable.pk, camera.pk],
        "four": [camera.pk, cable.pk, lens.pk, stocked_product(5).pk],
        "unknown": [camera.pk, 987654],
        "inactive": [camera.pk, cable.pk, retired.pk],
    }
    product_ids = named.get(product_ids, product_ids) if isinstance(product_ids, str) else product_ids
    cart = services.get_or_create_cart().pk

    with pytest.raises(CartError) as refused:
        services.add_bundle(cart, product_ids, now=NOW)

    assert (refused.value.code, str(refused.value)) == (code, message)
    assert not CartLine.objects.exists() and not Reservation.objects.exists()
    assert set(Inventory.objects.values_list("reserved", flat=True)) == {0}


def test_a_failure_half_way_through_writes_nothing(trio, monkeypatch):
    real_add = services._add_units
    added = []

    def fail_on_the_second(work, cart_id, product_id, *args):
        if added:
            raise RuntimeError("the database went away")
        added.append(product_id)
        return real_add(work, cart_id, product_id, *args)

    monkeypatch.setattr(services, "_add_units", fail_on_the_second)

    with pytest.raises(RuntimeError):
        services.add_bundle(services.get_or_create_cart().pk, [product.pk for product in trio], now=NOW)

    assert added == [trio[0].pk]
    assert not CartLine.objects.exists() and not Reservation.objects.exists()
    assert stock_invariant_violations() == []

