"""The product page's reviews section: ratings by stars, written reviews in the order asked for, verified purchases."""
import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Product
from catalog.ratings import average_of, histogram, star_counts
from catalog.reviews.models import Review
from orders.selectors import received_by
from tests.factories import ProductFactory, UserFactory, order_of

pytestmark = pytest.mark.django_db


def reviewer(**fields):
    return UserFactory(password=None, **fields)


def histogram_rows(body) -> dict[int, tuple[str, int]]:
    """{stars: (share shown, count shown)} as the page's histogram table reads."""
    table = re.search(r'<table class="histogram">.*?</table>', body, re.S).group(0)
    rows = re.findall(r"<th scope=\"row\">(\d) stars?</th>\s*<td[^>]*>.*?</meter> (\d+%)</td>\s*<td[^>]*>([\d,]+)</td>", table, re.S)
    return {int(stars): (share, int(count.replace(",", ""))) for stars, share, count in rows}


def listed(response) -> list[str]:
    return [review.body for review in response.context["reviews"]]


@pytest.fixture
def product():
    return ProductFactory(title="Cast Iron Pan", rating=Decimal("4.1"), review_count=10,
                          stars_5=6, stars_4=2, stars_3=0, stars_2=1, stars_1=1)


def test_the_histogram_shows_each_stars_count_and_share_as_text(client, product):
    body = client.get(product.get_absolute_url()).content.decode()

    assert histogram_rows(body) == {5: ("60%", 6), 4: ("20%", 2), 3: ("0%", 0), 2: ("10%", 1), 1: ("10%", 1)}
    assert "10 global ratings" in body and "4.1 out of 5" in body
    assert '<meter class="histogram-bar" min="0" max="100" value="60" aria-hidden="true">' in body
    # The ratings came without words: the page says so beside the count, which it keeps apart.
    assert "No written reviews yet." in body


def test_a_new_review_adds_to_both_the_rating_count_and_its_stars_row(client, product):
    user = reviewer()
    order_of(user, product)
    client.force_login(user)

    client.post(f"/p/{product.pk}/reviews/new/", {"rating": "3", "title": "", "body": "Heavy but fine."})

    body = client.get(product.get_absolute_url()).content.decode()
    rows = histogram_rows(body)
    assert rows[3] == ("9%", 1) and sum(count for _, count in rows.values()) == 11
    assert "11 global ratings" in body and "11 ratings" in body and "1 written review<" in body
    product.refresh_from_db()
    assert (product.review_count, product.stars_3) == (11, 1)


@pytest.fixture
def three_reviews(product):
    now = timezone.now()
    for age, stars in ((0, 3), (1, 5), (2, 1), (3, 5)):
        Review.objects.create(product=product, user=reviewer(), rating=stars, body=f"{stars} stars, {age} days old",
                              created_at=now - timedelta(days=age))
    return product


def test_reviews_sort_newest_highest_and_lowest(client, three_reviews):
    url = three_reviews.get_absolute_url()
    assert listed(client.get(url)) == ["3 stars, 0 days old", "5 stars, 1 days old", "1 stars, 2 days old", "5 stars, 3 days old"]
    assert listed(client.get(url + "?reviews_sort=highest")) == [
        "5 stars, 1 days old", "5 stars, 3 days old", "3 stars, 0 days old", "1 stars, 2 days old"
    ]
    assert listed(client.get(url + "?reviews_sort=lowest")) == [
        "1 stars, 2 days old", "3 stars, 0 days old", "5 stars, 1 days old", "5 stars, 3 days old"
    ]
    body = client.get(url + "?reviews_sort=lowest").content.decode()
    assert '<option value="lowest" selected>Lowest rating</option>' in body


@pytest.mark.parametrize("bad", ["oldest", "", "HIGHEST", "<script>", "highest'"])
def test_an_unknown_sort_lists_newest_first(client, three_reviews, bad):
    response = client.get(three_reviews.get_absolute_url(), {"reviews_sort": bad})
    assert response.status_code == 200
    assert listed(response)[0] == "3 stars, 0 days old"
    assert '<option value="newest" selected>Newest</option>' in response.content.decode()


def test_review_pages_keep_the_sort(client, three_reviews, settings):
    settings.CATALOG_REVIEWS_PAGE_SIZE = 2
    url = three_reviews.get_absolute_url()
    body = client.get(url + "?reviews_sort=highest").content.decode()
    assert f'href="{url}?reviews_sort=highest&amp;reviews_page=2#reviews"' in body
    assert listed(client.get(url + "?reviews_sort=highest&reviews_page=2")) == ["3 stars, 0 days old", "1 stars, 2 days old"]
    assert f'href="{url}?reviews_page=2#reviews"' in client.get(url).content.decode()  # newest needs no parameter


@pytest.mark.parametrize("status, verified", [("delivered", True), ("returned", True), ("shipped", False), ("cancelled", False)])
def test_verified_purchase_is_an_author_the_product_was_delivered_to(client, product, status, verified):
    author = reviewer()
    order_of(author, product, status=status)
    Review.objects.create(product=product, user=author, rating=4, body="Solid pan.")

    response = client.get(product.get_absolute_url())
    assert [review.verified for review in response.context["reviews"]] == [verified]
    assert ("Verified purchase" in response.content.decode()) is verified


def test_another_products_delivery_does_not_verify(client, product):
    author = reviewer()
    order_of(author, ProductFactory())
    Review.objects.create(product=product, user=author, rating=4, body="Solid pan.")
    assert "Verified purchase" not in client.get(product.get_absolute_url()).content.decode()


def test_received_by_names_only_shoppers_with_a_delivered_or_returned_order_of_the_product(product):
    delivered, returned, pending, other = (reviewer() for _ in range(4))
    order_of(delivered, product)
    order_of(returned, product, status="returned")
    order_of(pending, product, status="pending")
    order_of(other, ProductFactory())
    everyone = {user.pk for user in (delivered, returned, pending, other)}
    assert received_by(everyone, product.pk) == {delivered.pk, returned.pk}


@pytest.mark.parametrize("count, average", [(0, 0), (1, "4.6"), (3, "4.0"), (12, "4.2"), (120, "4.5"), (997, "3.3"), (5, "1.0"), (7, "5.0")])
def test_a_split_by_stars_adds_up_and_keeps_the_average(count, average):
    counts = star_counts(count, Decimal(average))
    assert sum(counts.values()) == count and all(units >= 0 for units in counts.values())
    if count >= 10:
        assert abs(average_of(counts) - Decimal(average)) <= Decimal("0.1")


def test_histogram_shares_round_to_whole_percents():
    product = ProductFactory(rating=Decimal("3.0"), review_count=3, stars_5=1, stars_4=0, stars_3=1, stars_2=0, stars_1=1)
    rows = histogram(product).rows
    assert [(row.stars, row.count, row.percent) for row in rows] == [(5, 1, 33), (4, 0, 0), (3, 1, 33), (2, 0, 0), (1, 1, 33)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the constraint is PostgreSQL's (migration 0011 says why)")
def test_the_database_refuses_a_split_that_does_not_add_up(product):
    with pytest.raises(IntegrityError), transaction.atomic():
        Product.objects.filter(pk=product.pk).update(stars_5=7)


def test_seeded_ratings_split_by_stars_and_average_from_the_split():
    call_command("seed_catalog", products=60, seed=3, batch_size=50, verbosity=0)
    for product in Product.objects.all():
        counts = {stars: getattr(product, f"stars_{stars}") for stars in range(1, 6)}
        assert sum(counts.values()) == product.review_count
        assert product.rating == average_of(counts)
