"""Attribute facets: declared per category in the admin, inherited below it, counted by the engine."""
from decimal import Decimal

import pytest

from catalog import search as catalog_search
from catalog.models import AttributeFacet
from catalog.search import SearchRequest
from catalog.search.facets import build_facets
from tests.factories import InventoryFactory, ProductFactory, UserFactory, category_tree

pytestmark = pytest.mark.django_db


@pytest.fixture
def clothes():
    categories = category_tree()
    electronics, books = categories["electronics"], categories["books"]
    AttributeFacet.objects.create(category=electronics, key="color", label="Colour", position=0)
    AttributeFacet.objects.create(
        category=electronics, key="size", label="Size", position=1, value_order="S\nM\nL"
    )

    def product(title, category, **attributes):
        item = ProductFactory(title=f"{title} Speaker", category=category, attributes=attributes, price=Decimal("20"))
        InventoryFactory(product=item, quantity=3)
        return item

    return {
        "black_s": product("Black Small", categories["headphones"], color="Black", size="S"),
        "black_l": product("Black Large", categories["audio"], color="Black", size="L"),
        "white_m": product("White Medium", electronics, color="White", size="M"),
        "white_s": product("White Small", categories["cables"], color="White", size="S"),
        # Books declare no colour facet: this product's colour is never counted.
        "book": product("Black Cover", books, color="Black"),
    }


def facet(facets, slug):
    return {value.label: (value.count, value.selected) for group in facets.attributes if group.slug == slug for value in group.values}


def search(**params):
    request = SearchRequest.from_params({name: [value] if isinstance(value, str) else value for name, value in params.items()})
    result = catalog_search.search(request)
    return result, build_facets(result)


def test_descendants_inherit_facets_and_counts_follow_the_categories_that_declare_them(clothes):
    result, facets = search(q="speaker")
    assert result.total == 5
    assert facet(facets, "color") == {"Black": (2, False), "White": (2, False)}  # the book is not counted
    # The declared order, not the count's.
    assert list(facet(facets, "size")) == ["S", "M", "L"]


def test_or_within_a_facet_and_across_facets_and(clothes):
    result, facets = search(q="speaker", attr_size=["S", "M"])
    assert set(result.ids) == {clothes["black_s"].pk, clothes["white_m"].pk, clothes["white_s"].pk}
    result, facets = search(q="speaker", attr_size="S", attr_color="White")
    assert result.ids == [clothes["white_s"].pk]
    # Each facet's counts ignore its own selection, so other values stay clickable.
    # A value nothing else selected leaves room for is not offered (no "L" among the white ones).
    assert facet(facets, "size") == {"S": (1, True), "M": (1, False)}
    assert facet(facets, "color") == {"Black": (1, False), "White": (1, True)}
    assert {value.label for value in facets.selected} == {"S", "White"}


def test_unknown_attributes_are_dropped_not_errors(clothes, client):
    response = client.get("/search/?q=speaker&attr_flavour=mint&attr_color=Black")
    assert response.status_code == 200
    assert response.context["search"].attributes == (("color", ("Black",)),)
    # Two black speakers; not the black book: books show no colour facet, so none is filtered by it.
    assert response.context["result"].total == 2


def test_category_pages_have_the_facet_sidebar(clothes, client):
    response = client.get("/c/electronics/?attr_color=White")
    assert response.status_code == 200
    assert {product.pk for product in response.context["products"]} == {clothes["white_m"].pk, clothes["white_s"].pk}
    body = response.content.decode()
    assert "Colour" in body and "Size" in body and "Brand" in body and "Price" in body
    # Facet links stay on the category page: the category is the path, not a parameter.
    assert 'href="?attr_color=White&amp;attr_size=S"' in body or "attr_size=S" in body
    assert "category=electronics" not in body
    # A category without declared facets shows none, and none of its products' attributes.
    assert "Colour" not in client.get("/c/books/").content.decode()


def test_staff_declare_facets_in_the_category_admin(clothes, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    books = category_tree.__globals__["CategoryFactory"]._meta.model.objects.get(slug="books")
    response = client.get(f"/admin/catalog/category/{books.pk}/change/")
    assert response.status_code == 200 and "Attribute facets" in response.content.decode()
