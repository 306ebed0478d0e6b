"""Migration 0011 splits the ratings products already had by stars, so every row adds up before the constraint."""
from decimal import Decimal

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("catalog", "0010_inventory_unreserved_index")]
AFTER = [("catalog", "0011_rating_counts")]


def migrate(targets):
    """Migrate the catalog to ``targets``; the models as they were there, reviews' included."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    executor.loader.build_graph()
    return executor.loader.project_state([*targets, ("reviews", "0001_initial")]).apps


@pytest.mark.django_db(transaction=True)
def test_existing_ratings_are_split_around_their_average_and_written_reviews_keep_their_stars():
    old = migrate(BEFORE)
    try:
        Product = old.get_model("catalog", "Product")
        User = old.get_model("auth", "User")
        Review = old.get_model("reviews", "Review")
        seller = old.get_model("catalog", "Seller").objects.create(name="S", slug="s")
        brand = old.get_model("catalog", "Brand").objects.create(name="B", slug="b")
        category = old.get_model("catalog", "Category").objects.create(name="C", slug="c")

        def product(title, rating, count, total=None):
            return Product.objects.create(
                seller=seller, brand=brand, category=category, title=title, slug=title, price=1,
                rating=Decimal(rating), review_count=count, rating_total=total,
            ).pk

        product("seeded", "4.3", 10)
        product("unrated", "0", 0)
        product("perfect", "5.0", 7)
        # 10 seeded ratings totalling 46.3, then a written 1★: 47.3 over 11.
        reviewed = product("reviewed", "4.3", 11, Decimal("47.3"))
        Review.objects.create(product_id=reviewed, user=User.objects.create(username="ada"), rating=1, body="No.")

        new = migrate(AFTER)
        splits = {
            row["title"]: tuple(row[f"stars_{stars}"] for stars in (5, 4, 3, 2, 1))
            for row in new.get_model("catalog", "Product").objects.values("title", *(f"stars_{s}" for s in range(1, 6)))
        }
        assert splits == {
            "seeded": (3, 7, 0, 0, 0),  # 4.3: seven fours, three fives
            "unrated": (0, 0, 0, 0, 0),
            "perfect": (7, 0, 0, 0, 0),
            "reviewed": (6, 4, 0, 0, 1),  # the ten before averaged 4.63; the written one is the 1★
        }
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
