"""Recommendations on the pages and the API: the cache, the fallbacks, and personalisation."""
import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
import requests
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cart import services as cart_services
from orders.models import Status
from recommendations import selectors, services
from recommendations.models import Recommendation
from tests.factories import PASSWORD, CategoryFactory, UserFactory, stocked_product
from tests.outages import DEAD_VALKEY
from tests.processes import database_url, free_port, wait_for
from tests.recommendations.helpers import place

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
    baskets, entries = cache.get(selectors.product_key(store["Cable"].pk))
    assert (baskets, [entry[:3:2] for entry in entries]) == (3.0, [(store["Camera"].pk, 3)])


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


REPO = Path(__file__).resolve().parents[2]
ALSO_BOUGHT = "Customers who bought this also bought"


def cache_seconds(**env):
    """RECOMMENDATIONS_CACHE_SECONDS as a freshly started process reads it."""
    clean = {k: v for k, v in os.environ.items() if k not in {"VALKEY_URL", "RECOMMENDATIONS_CACHE_SECONDS"}}
    script = "from django.conf import settings; print(settings.RECOMMENDATIONS_CACHE_SECONDS)"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script], cwd=REPO, env={**clean, **env},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 0, result.stderr
    return int(result.stdout.split()[-1])


def test_a_half_life_that_is_not_positive_stops_start_up_with_a_clear_error():
    clean = {k: v for k, v in os.environ.items() if k != "RECOMMENDATIONS_HALF_LIFE_DAYS"}
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=REPO, env={**clean, "RECOMMENDATIONS_HALF_LIFE_DAYS": "0"},
        capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "RECOMMENDATIONS_HALF_LIFE_DAYS is 0.0: it must be a positive number of days" in result.stderr


def test_a_per_process_cache_keeps_lists_a_minute_and_valkey_a_day():
    assert cache_seconds() == 60
    assert cache_seconds(VALKEY_URL="redis://127.0.0.1:1/0") == 24 * 3600  # read, never connected to


@pytest.mark.system
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the server process needs the test database on a PostgreSQL server"
)
@pytest.mark.django_db(transaction=True)  # the processes must see the test's rows
def test_a_run_made_by_another_process_reaches_a_running_server(tmp_path):
    """`make run`'s server (runserver, the local-memory cache) shows a product before any run, caching its
    empty list; compute_recommendations runs in a second process; the shelf appears on the served page.

    The server's entries last 2 seconds here instead of the default minute; the path is the same.
    """
    category = CategoryFactory(name="Cameras")
    camera, cable = (stocked_product(10, category=category, title=name) for name in ("Camera", "Cable"))
    for _ in range(3):
        place(camera, cable)
    env = {**os.environ, "DATABASE_URL": database_url(), "DEBUG": "1", "RECOMMENDATIONS_CACHE_SECONDS": "2"}
    env.pop("VALKEY_URL", None)  # the default: each process has its own cache
    port = free_port()
    with open(tmp_path / "server.log", "w") as log:
        server = subprocess.Popen(
            [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}{camera.get_absolute_url()}"

    def page():
        assert server.poll() is None, f"runserver exited:\n{(tmp_path / 'server.log').read_text()[-3000:]}"
        try:
            return requests.get(url, timeout=10)
        except requests.ConnectionError:
            return None  # not listening yet

    try:
        before = wait_for(page, 60, "runserver did not answer")
        assert before.status_code == 200
        assert ALSO_BOUGHT not in before.text  # no run yet

        computed = subprocess.run(
            [sys.executable, "manage.py", "compute_recommendations", "--verbosity", "0"],
            cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
        )
        assert computed.returncode == 0, computed.stderr

        def with_shelf():
            response = page()
            return response if response is not None and ALSO_BOUGHT in response.text else None

        after = wait_for(with_shelf, 30, "the new run never reached the running server", interval=0.2)
        assert shown(after, ALSO_BOUGHT) == ["Cable"]
    finally:
        server.kill()
        server.wait(timeout=10)
