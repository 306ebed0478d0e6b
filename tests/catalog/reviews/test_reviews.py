"""Reviews: who may write one, how its stars fold into the product's rating, how they are listed."""
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from catalog.models import Product
from catalog.reviews import selectors, services
from catalog.reviews.models import Review
from tests.concurrency import run_concurrently
from tests.factories import ProductFactory, UserFactory, order_of

pytestmark = pytest.mark.django_db

NO_RATING = "Choose a rating from 1 to 5 stars."


def reviewer(**fields):
    """A shopper without a usable password: hashing one per user would be most of these tests' time."""
    return UserFactory(password=None, **fields)


def review_url(product):
    return f"/p/{product.pk}/reviews/new/"


def post_review(client, product, rating="5", body="Does what it says.", title=""):
    return client.post(review_url(product), {"rating": rating, "title": title, "body": body})


@pytest.fixture
def product():
    """Seeded numbers without Review rows: 4.0 over 3 reviews."""
    return ProductFactory(title="Cast Iron Pan", rating=Decimal("4.0"), review_count=3)


@pytest.fixture
def shopper(client, product):
    user = reviewer()
    order_of(user, product)
    client.force_login(user)
    return user


def test_an_eligible_shopper_reviews_and_the_rating_folds_in_exactly(client, product, shopper):
    response = post_review(client, product, rating="1", title="Rusted", body="Rusted after a week.")

    assert response.status_code == 302 and response["Location"] == product.get_absolute_url() + "#reviews"
    product.refresh_from_db()
    # The seeded 4.0 over 3 counts as three earlier reviews: (12 + 1) / 4 = 3.25, rounded half up.
    assert (product.rating, product.review_count, product.rating_total) == (Decimal("3.3"), 4, Decimal("13.0"))
    review = Review.objects.get()
    assert (review.user, review.product, review.rating, review.title) == (shopper, product, 1, "Rusted")

    body = client.get(response["Location"]).content.decode()
    assert "Thank you, your review is posted." in body
    assert "Rusted after a week." in body and shopper.username in body
    assert 'aria-label="1 out of 5 stars"' in body
    assert "You reviewed this product." in body and 'class="review-form"' not in body


def test_the_rating_rounds_half_up_from_the_exact_total():
    product = ProductFactory()  # no reviews yet
    for stars in (4, 4, 4, 5):
        user = reviewer()
        order_of(user, product)
        services.add_review(user=user, product_id=product.pk, rating=stars, title="", body="Fine.")
    product.refresh_from_db()
    assert (product.rating, product.review_count) == (Decimal("4.3"), 4)  # 17 / 4 = 4.25


def test_the_rating_keeps_moving_where_a_one_decimal_average_would_stick():
    # From a stored 4.0 over 100, each 5 would move the average by under 0.05 and
    # round back to 4.0; the exact total moves it: (400 + 10 × 5) / 110 = 4.09.
    product = ProductFactory(rating=Decimal("4.0"), review_count=100)
    for _ in range(10):
        user = reviewer()
        order_of(user, product)
        services.add_review(user=user, product_id=product.pk, rating=5, title="", body="Great.")
    product.refresh_from_db()
    assert (product.rating, product.review_count, product.rating_total) == (Decimal("4.1"), 110, Decimal("450.0"))


@pytest.mark.parametrize("status", ["paid", "shipped", "returned", "cancelled"])
def test_only_a_delivered_order_makes_a_shopper_eligible(client, product, status):
    user = reviewer()
    order_of(user, product, status=status)
    order_of(user, ProductFactory())  # another product delivered does not count
    client.force_login(user)

    page = client.get(product.get_absolute_url()).content.decode()
    assert "Only customers who received this product can review it." in page
    assert 'class="review-form"' not in page

    response = post_review(client, product)
    assert response.status_code == 200
    assert "Only customers who received this product can review it." in response.content.decode()
    assert not Review.objects.exists()
    product.refresh_from_db()
    assert (product.rating, product.review_count, product.rating_total) == (Decimal("4.0"), 3, None)


def test_a_second_review_is_a_form_error_and_changes_nothing(client, product, shopper):
    post_review(client, product, rating="5")

    response = post_review(client, product, rating="1", body="Changed my mind.")

    assert response.status_code == 200
    body = response.content.decode()
    assert 'class="review-form"' in body and "You reviewed this product." in body
    assert "errorlist" in body
    assert Review.objects.count() == 1
    product.refresh_from_db()
    assert (product.rating, product.review_count) == (Decimal("4.3"), 4)  # (12 + 5) / 4 = 4.25


@pytest.mark.parametrize(
    "data, message",
    [
        ({"rating": "0"}, NO_RATING),
        ({"rating": "6"}, NO_RATING),
        ({"rating": "four"}, NO_RATING),
        ({"rating": "4.5"}, NO_RATING),
        ({"rating": ""}, NO_RATING),
        ({"body": "   "}, "Write a few words about the product."),
        ({"body": "x" * 5001}, "Keep your review under 5000 characters (it has 5001)."),
        ({"title": "t" * 121}, "Keep the title under 120 characters (it has 121)."),
    ],
)
def test_invalid_input_shows_the_product_page_with_form_errors(client, product, shopper, data, message):
    response = client.post(review_url(product), {"rating": "4", "title": "", "body": "Good pan.", **data})

    assert response.status_code == 200
    body = response.content.decode()
    assert message in body and "Cast Iron Pan" in body
    assert not Review.objects.exists()
    product.refresh_from_db()
    assert product.review_count == 3


def test_the_database_refuses_ratings_outside_one_to_five_and_a_second_review(product):
    user = reviewer()
    for stars in (0, 6):
        with pytest.raises(IntegrityError), transaction.atomic():
            Review.objects.create(product=product, user=user, rating=stars, body="x")
    Review.objects.create(product=product, user=user, rating=3, body="x")
    with pytest.raises(IntegrityError), transaction.atomic():
        Review.objects.create(product=product, user=user, rating=4, body="again")


def test_signing_in_is_required_and_comes_back_to_the_product(client, product):
    response = post_review(client, product)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert not Review.objects.exists()

    page = client.get(product.get_absolute_url()).content.decode()
    assert "Only customers who received this product can review it." in page and "Log in</a> if you have." in page

    client.force_login(reviewer())
    response = client.get(review_url(product))
    assert response.status_code == 302 and response["Location"] == product.get_absolute_url() + "#reviews"


def test_an_inactive_product_cannot_be_reviewed(client, product, shopper):
    Product.objects.filter(pk=product.pk).update(is_active=False)
    assert post_review(client, product).status_code == 404
    assert not Review.objects.exists()


def test_the_form_shows_only_to_an_eligible_shopper_who_has_not_reviewed(client, product, shopper):
    body = client.get(product.get_absolute_url()).content.decode()
    assert 'class="review-form"' in body
    assert 'action="' + review_url(product) + '#reviews"' in body
    assert "csrfmiddlewaretoken" in body
    for label in ('for="id_rating"', 'for="id_title"', 'for="id_body"'):
        assert label in body


def test_reviews_are_listed_newest_first_five_to_a_page(client, product):
    now = timezone.now()
    for age in range(7):
        user = reviewer(username=f"reviewer{age}")
        Review.objects.create(
            product=product, user=user, rating=5, body=f"Review aged {age} days", created_at=now - timedelta(days=age)
        )

    first = client.get(product.get_absolute_url())
    assert [review.body for review in first.context["reviews"]] == [f"Review aged {age} days" for age in range(5)]
    body = first.content.decode()
    assert body.index("Review aged 0 days") < body.index("Review aged 4 days")
    assert "reviewer0" in body and "Page 1 of 2" in body
    assert f'href="{product.get_absolute_url()}?reviews_page=2#reviews"' in body

    second = client.get(product.get_absolute_url() + "?reviews_page=2")
    assert [review.body for review in second.context["reviews"]] == ["Review aged 5 days", "Review aged 6 days"]

    for bad in ("abc", "99", "0", "-1"):
        assert client.get(f"{product.get_absolute_url()}?reviews_page={bad}").context["reviews"].number == 1


def test_a_product_without_written_reviews_says_so(client, product):
    assert "No written reviews yet." in client.get(product.get_absolute_url()).content.decode()


def test_review_admin_lists_and_searches_but_offers_no_add_or_delete(admin_client, product):
    user = reviewer(username="ada")
    Review.objects.create(product=product, user=user, rating=4, title="Solid", body="Heavy but good.")
    review = Review.objects.get()

    changelist = admin_client.get("/admin/reviews/review/?q=ada")
    assert changelist.status_code == 200
    assert list(changelist.context["cl"].result_list) == [review]
    assert admin_client.get("/admin/reviews/review/?q=nobody").context["cl"].result_count == 0
    body = changelist.content.decode()
    assert "delete_selected" not in body and "/admin/reviews/review/add/" not in body
    assert admin_client.get("/admin/reviews/review/add/").status_code == 403
    assert admin_client.get(f"/admin/reviews/review/{review.pk}/delete/").status_code == 403

    # The words can be edited; the stars stay as posted.
    response = admin_client.post(
        f"/admin/reviews/review/{review.pk}/change/", {"title": "Solid", "body": "Heavy.", "rating": "1"}
    )
    assert response.status_code == 302
    review.refresh_from_db()
    assert (review.body, review.rating) == ("Heavy.", 4)


def test_the_refusal_reasons():
    product = ProductFactory()
    user = reviewer()
    assert selectors.review_refusal(user, product.pk) == selectors.NOT_RECEIVED
    order_of(user, product)
    assert selectors.review_refusal(user, product.pk) is None
    services.add_review(user=user, product_id=product.pk, rating=3, title="", body="Ok.")
    assert selectors.review_refusal(user, product.pk) == selectors.ALREADY_REVIEWED
    with pytest.raises(services.ReviewError, match="You reviewed this product."):
        services.add_review(user=user, product_id=product.pk, rating=3, title="", body="Ok.")


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for real concurrency")
def test_concurrent_reviews_are_all_counted():
    product = ProductFactory(rating=Decimal("4.0"), review_count=3)
    shoppers = [reviewer() for _ in range(2)]
    for user in shoppers:
        order_of(user, product)

    results, errors = run_concurrently(
        2, lambda i: services.add_review(user=shoppers[i], product_id=product.pk, rating=5, title="", body="Both.")
    )

    assert errors == [] and all(results)
    product.refresh_from_db()
    assert (product.review_count, product.rating_total, product.rating) == (5, Decimal("22.0"), Decimal("4.4"))
    # The seeded three split as one each of 5, 4 and 3 stars; both fives joined their row.
    assert (product.stars_5, product.stars_4, product.stars_3) == (3, 1, 1)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL row locks for real concurrency")
def test_a_concurrent_double_submit_posts_one_review():
    product = ProductFactory()
    user = reviewer()
    order_of(user, product)

    results, errors = run_concurrently(
        4, lambda i: services.add_review(user=user, product_id=product.pk, rating=4, title="", body="Once.")
    )

    assert len([r for r in results if r is not None]) == 1
    assert len(errors) == 3 and all(isinstance(error, services.ReviewError) for error in errors)
    product.refresh_from_db()
    assert (product.review_count, product.rating) == (1, Decimal("4.0"))
