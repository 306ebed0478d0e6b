"""bench/search_http.py's mix on a few products: seeded, every class present, only parameters the search page reads.

The generator alone: no gunicorn, no large catalog. A mix that drifted from
the page (a sort it does not know, a bucket it drops) would time another page
than shoppers get, so each URL goes through ``SearchRequest.from_params``.
"""
import random
import sys
import urllib.parse
from decimal import Decimal
from pathlib import Path

import pytest
from django.http import QueryDict
from django.utils.text import slugify

from catalog.models import Brand, Category, Product
from catalog.search.query import SearchRequest
from tests.factories import BrandFactory, ProductFactory, category_tree

sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))  # appended: bench/ holds modules named like the apps
import search_http  # noqa: E402

pytestmark = pytest.mark.django_db

@pytest.fixture
def catalog():
    categories = category_tree()
    brands = [BrandFactory(name="Sonic Labs", slug="sonic-labs"), BrandFactory(name="Readwell", slug="readwell")]
    rows = [
        ("Sonic Labs Premium Wireless Earbuds, Black, Bluetooth 5.3", "headphones", 0, "79.90", "4.5",
         {"color": "Black", "connectivity": "Bluetooth 5.3"}),
        ("Sonic Labs Compact USB-C Cable, White, USB-C", "cables", 0, "9.99", "3.2", {"color": "White"}),
        ("Readwell Classic Mystery Novel, Paperback, English", "books", 1, "14.00", "4.1",
         {"format": "Paperback", "language": "English"}),
        ("Readwell Deluxe Cookbook, Hardcover, English", "books", 1, "31.50", "0", {}),
        ("Sonic Labs Smart Table Lamp, Gray, Ceramic", "home-kitchen", 0, "120.00", "2.0",
         {"color": "Gray", "material": "Ceramic"}),
    ]
    for title, category, brand, price, rating, attributes in rows:
        ProductFactory(title=title, category=categories[category], brand=brands[brand], price=Decimal(price),
                       rating=Decimal(rating), attributes=attributes)


def mix(seed):
    rng = random.Random(seed)
    catalog = search_http.read_catalog(rng, 100)
    pool = search_http.search_pool(rng, catalog, search_http.POOL)
    stream = search_http.draw(rng, pool, 1600, search_http.ZIPF)
    return catalog, pool, stream, search_http.suggest_prefixes(rng, catalog, 50)


def test_the_same_seed_gives_the_same_mix_and_another_seed_another(catalog):
    assert mix(3) == mix(3)
    assert mix(3)[2] != mix(4)[2]


def test_every_class_is_drawn_and_popular_searches_repeat(catalog):
    _, pool, stream, _ = mix(1)
    assert len({url for url, _ in pool}) == len(pool) == search_http.POOL
    drawn = {kind for _, classes in stream for kind in classes}
    assert drawn == set(search_http.CLASSES)
    urls = [url for url, _ in stream]
    assert 0 < len(urls) - len(set(urls)) < len(urls) / 2  # some repeats, mostly new


def test_each_url_is_one_the_search_page_reads_back(catalog):
    brands = set(Brand.objects.values_list("slug", flat=True))
    categories = set(Category.objects.values_list("slug", flat=True))
    attributes = {(slugify(key), str(value)) for row in Product.objects.values_list("attributes", flat=True)
                  for key, value in row.items()}
    _, pool, _, _ = mix(1)
    for url, classes in pool:
        path, _, query = url.partition("?")
        assert path == "/search/"
        params = urllib.parse.parse_qsl(query)
        request = SearchRequest.from_params(QueryDict(query))
        assert sorted(request.to_params()) == sorted(params), url  # nothing dropped, nothing rewritten
        assert set(request.categories) <= categories and set(request.brands) <= brands
        assert {(name.removeprefix("attr_"), value) for name, value in params if name.startswith("attr_")} <= attributes
        assert (request.q == "") == ("browse" in classes)
        assert ("sorted" in classes) == (request.sort != "relevance")
        assert ("deep_page" in classes) == (request.page > 1)
        facets = [name for name, _ in params if name not in {"q", "sort", "page"}]
        assert ("filtered" in classes) == (request.q != "" and bool(facets))
        if "browse" in classes:
            assert [name for name, _ in params if name not in {"sort", "page"}] == ["category"]


def test_type_ahead_prefixes_are_typed_letter_by_letter(catalog):
    _, _, _, prefixes = mix(1)
    assert len(prefixes) == 50
    assert all(len(prefix) >= 2 for prefix in prefixes)
    for shorter, longer in zip(prefixes, prefixes[1:]):
        assert longer.startswith(shorter) and len(longer) > len(shorter) or len(longer) == 2
