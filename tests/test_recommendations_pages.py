"""Recommendations on the pages and the API: the cache, the fallbacks, and personalisation."""
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cart import services as cart_services
from orders.models import Status
from recommendations import selectors, services
from recommendations.models import Recommendation
from recommendations.scoring import score
from tests.factories import PASSWORD, CategoryFactory, UserFactory, stocked_product
from tests.test_cache_outage import DEAD_VALKEY
from tests.test_recommendations import place

pytestmark = pytest.mark.django_db


def titles(shelf):
    return [product.title for product in shelf.products]


def shown(response, heading):
    """Titles of the cards in the shelf under ``heading``, in order."""
    html = response.content.decode()
    assert heading in html, heading
    section = html.split(heading, 1)[1].split("</section>", 1)[0]
    return [part.split("</span>", 1)[0] for part in section.split('<span class="card-title">')[1:]]


@pytest.fixture
def store():
    """A camera bought with a cable (3 times) and a tripod (2 times); the tripod is sold out.

    Cable, case and lens are bought alone too; nobody bought the strap yet.
    """
    category = CategoryFactory(name="Cameras")
    camera, cable, tripod, case, lens, strap = (
        stocked_product(0 if name == "Tripod" else 10, category=category, title=name)
        for name in ("Camera", "Cable", "Tripod", "Case", "Lens", "Strap")
    )
    for basket in ([camera, cable], [camera, cable], [camera, cable], [camera, tripod], [camera, tripod],
                   [cable], [case], [case], [case], [lens], [lens]):
        place(*basket)
    services.compute_recommendations()
    return {p.title: p for p in (camera, cable, tripod, case, lens, strap)}


def test_product_page_shows_in_stock_also_bought_from_the_cache(client, store):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(store["Camera"].get_absolute_url())

    assert shown(response, "Customers who bought this also bought") == ["Cable"]  # the tripod is sold out
    assert not any(Recommendation._meta.db_table in query["sql"] for query in queries.captured_queries)


def test_a_cache_miss_reads_the_table_and_fills_the_cache(client, store):
    cache.clear()

    with CaptureQueriesContext(connection) as queries:
        response = client.get(store["Cable"].get_absolute_url())

    assert shown(response, "Customers who bought this also bought") == ["Camera"]
    assert sum(Recommendation._meta.db_table in query["sql"] for query in queries.captured_queries) == 1
    assert cache.get(selectors.product_key(store["Cable"].pk)) == [(store["Camera"].pk, score(3, 5, 4))]


def test_with_valkey_down_the_lists_come_from_the_table(client, store, settings):
    settings.CACHES = DEAD_VALKEY

    response = client.get(store["Cable"].get_absolute_url())

    assert response.status_code == 200
    assert shown(response, "Customers who bought this also bought") == ["Camera"]


def test_a_product_nobody_bought_shows_its_category_bestsellers_but_never_itself(client, store):
    response = client.get(store["Strap"].get_absolute_url())
    assert shown(response, "Bestsellers in Cameras") == ["Camera", "Cable", "Case", "Lens"]

    # Bought, but never with anything: its category's bestsellers, without itself.
    response = client.get(store["Case"].get_absolute_url())
    assert shown(response, "Bestsellers in Cameras") == ["Camera", "Cable", "Lens"]


def test_a_category_without_sales_falls_back_to_its_parent_then_the_store(store):
    department = CategoryFactory(name="Photo")
    film = CategoryFactory(name="Film", parent=department)
    roll = stocked_product(5, category=film, title="Roll")
    services.compute_recommendations()

    assert (selectors.for_product(roll).title, titles(selectors.for_product(roll))) == (
        "Bestsellers", ["Camera", "Cable", "Case", "Lens"]
    )
    store["Camera"].category.parent = department
    store["Camera"].category.save()
    services.compute_recommendations()
    assert selectors.for_product(roll).title == "Bestsellers in Photo"


def test_anonymous_visitors_see_the_bestsellers_on_the_home_page(client, store):
    response = client.get("/")

    assert shown(response, "Bestsellers") == ["Camera", "Cable", "Case", "Lens"]
    assert "Recommended for you" not in response.content.decode()


def test_recommended_for_you_leaves_out_what_the_shopper_bought_and_what_is_sold_out(client, store):
    shopper = UserFactory()
    place(store["Camera"], user=shopper)

    client.login(username=shopper.username, password=PASSWORD)
    response = client.get("/")

    # Camera's list is cable, tripod (sold out); then the category's bestsellers
    # without the camera they own; the store's bestsellers add nothing new.
    assert shown(response, "Recommended for you") == ["Cable", "Case", "Lens"]


def test_recommended_for_you_weighs_recent_purchases_more(store):
    lens_buyers = stocked_product(10, category=store["Lens"].category, title="Filter")
    for _ in range(2):
        place(store["Lens"], lens_buyers)
    services.compute_recommendations()
    shopper = UserFactory(password=None)
    place(store["Lens"], user=shopper, created_at=timezone.now() - timedelta(days=90))
    place(store["Cable"], user=shopper)

    shelf = selectors.for_shopper(shopper)

    # Lens → filter scores 2/√(4·2) = 0.71 and cable → camera 3/√(4·5) = 0.67,
    # but the lens was bought three half-lives ago: it weighs an eighth.
    assert titles(shelf)[:2] == ["Camera", "Filter"]


def test_bought_in_any_order_not_cancelled_counts_as_bought(store):
    shopper = UserFactory(password=None)
    place(store["Camera"], user=shopper)
    place(store["Cable"], user=shopper, status=Status.PENDING)
    place(store["Case"], user=shopper, status=Status.CANCELLED)

    assert titles(selectors.for_shopper(shopper)) == ["Case", "Lens"]


def test_a_shopper_who_bought_nothing_gets_the_bestsellers(store):
    assert titles(selectors.for_shopper(UserFactory(password=None))) == ["Camera", "Cable", "Case", "Lens"]


def test_cart_page_shows_what_is_bought_with_its_items(client, store):
    shopper = UserFactory()
    client.login(username=shopper.username, password=PASSWORD)
    cart = cart_services.get_or_create_cart(user=shopper)
    cart_services.add_to_cart(cart.pk, store["Cable"].pk, 1)

    response = client.get("/cart/")

    assert shown(response, "Frequently bought with items in your cart") == ["Camera"]


def test_api_product_recommendations(client, store):
    response = client.get(f"/api/products/{store['Camera'].pk}/recommendations/")

    body = response.json()
    assert response.status_code == 200
    assert (body["kind"], body["title"]) == ("also_bought", "Customers who bought this also bought")
    assert [(card["id"], card["stock"]) for card in body["results"]] == [(store["Cable"].pk, "In stock")]
    assert client.get("/api/products/999999/recommendations/").status_code == 404


def test_api_recommendations_for_the_current_user(client, store):
    assert client.get("/api/recommendations/").json()["kind"] == "bestsellers"

    shopper = UserFactory()
    place(store["Camera"], user=shopper)
    client.login(username=shopper.username, password=PASSWORD)
    body = client.get("/api/recommendations/").json()

    assert body["kind"] == "personal"
    assert [card["title"] for card in body["results"]] == ["Cable", "Case", "Lens"]


def test_pages_without_any_run_show_no_shelf(client):
    product = stocked_product(3, title="Lonely")

    assert "Customers who bought" not in client.get(product.get_absolute_url()).content.decode()
    assert '<section class="shelf"' not in client.get("/").content.decode()


def test_bestseller_cards_are_shared_briefly_and_a_new_run_replaces_them(store):
    assert titles(selectors.for_product(store["Strap"])) == ["Camera", "Cable", "Case", "Lens"]

    with CaptureQueriesContext(connection) as queries:
        shelf = selectors.for_product(store["Case"])  # same category: the same cached cards, less itself
    assert titles(shelf) == ["Camera", "Cable", "Lens"]
    # Only the first look for the case's own list, which it does not have: no product or stock query.
    assert [Recommendation._meta.db_table in query["sql"] for query in queries.captured_queries] == [True]

    for _ in range(6):
        place(store["Lens"])
    services.compute_recommendations()
    assert titles(selectors.for_product(store["Strap"])) == ["Lens", "Camera", "Cable", "Case"]
