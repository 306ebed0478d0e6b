"""How typed words become search terms, and what a shopper then finds.

The analysis rules (units, hyphens, plurals, synonyms, minimum-should-match)
are unit-tested on their own, then end to end through the database backend
(PostgreSQL in CI, SQLite locally) on a few products written to need them.
"""
import pytest
from django.db import connection

from catalog import search as catalog_search
from catalog.models import SearchSynonym
from catalog.search import SearchRequest
from catalog.search.analysis import postgres_variants_sql, required_matches, terms, title_for, title_head, variants
from catalog.search.suggestions import refresh_search_terms
from tests.factories import InventoryFactory, ProductFactory, category_tree


def test_units_meet_however_they_are_written():
    assert variants("Phone, 64 GB, 6.1-inch screen") == "64gb 6p1in"
    assert [term.text for term in terms("64gb phone")] == [term.text for term in terms("64 GB phone")] == ["64gb", "phone"]
    assert [term.text for term in terms("2.4 ghz router")] == ["2p4ghz", "router"]


def test_hyphenated_and_split_words_meet_the_joined_form():
    assert variants("T-Shirt with USB-C") == "tshirt usbc"
    assert terms("t-shirt")[0].alternatives == (("tshirt",),)
    # Two typed words the catalog writes as one: either form matches.
    assert terms("wi fi router", joined={"wifi"})[0].alternatives == (("wifi",), ("wi", "fi"))


def test_irregular_plurals_and_synonyms_are_alternatives():
    assert terms("mice")[0].alternatives == (("mice",), ("mouse",))
    assert terms("knife")[0].alternatives == (("knife",), ("knives",))
    tv = terms("tv", synonyms={"tv": ("television",)})[0]
    assert set(tv.alternatives) == {("tv",), ("television",)}


def test_stop_words_are_not_terms_and_the_last_word_may_be_a_prefix():
    found = terms("the case for a phone", prefix=True)
    assert [term.text for term in found] == ["case", "phone"]
    assert found[-1].prefix and not found[0].prefix


def test_a_title_says_what_the_product_is_before_what_it_is_for():
    assert title_head("Silicone Case for Nova Phone") == "Silicone Case Case"
    assert title_for("Silicone Case for Nova Phone") == "Nova Phone"
    # The kind is the first segment's last word, past any measure.
    assert title_head("Nova Phone 64 GB, Black") == "Nova Phone 64 GB, Black Phone"


def test_minimum_should_match():
    assert [required_matches(n) for n in range(1, 7)] == [1, 2, 2, 3, 3, 4]


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the SQL twin of variants() exists on PostgreSQL")
def test_postgres_functions_agree_with_python():
    samples = [
        "64GB", "6.1\" screen 2,5 l", "USB-C to USB-C 2m", "X-Ray 3-in-1 27-inch", "no units", "500ml 12-pack",
        "Camera Bag for Mirrorless Cameras", "Chef Knife with Sheath (8 inch)", "USB-C Charger Compatible with iPhone 15",
        "Nova Phone 64 GB - Black", "",
    ]
    with connection.cursor() as cursor:
        cursor.execute(postgres_variants_sql())
        for sample in samples:
            cursor.execute(
                "SELECT catalog_search_variants(%s), catalog_search_title_head(%s), catalog_search_title_for(%s)",
                [sample] * 3,
            )
            found = tuple(value or "" for value in cursor.fetchone())
            assert found == (variants(sample), title_head(sample), title_for(sample)), sample


@pytest.fixture
def shop(db):
    categories = category_tree()

    def product(title, category="headphones", description="Made for everyday use.", reviews=10, **attributes):
        item = ProductFactory(
            title=title, category=categories[category], description=description, review_count=reviews,
            attributes=attributes or {"color": "Black"},
        )
        InventoryFactory(product=item, quantity=5)
        return item

    items = {
        "phone": product("Nova Phone 64 GB", category="electronics"),
        "tee": product("Cotton T-Shirt", category="home-kitchen"),
        "mouse": product("Ergonomic Wireless Mouse", category="electronics"),
        "tv": product("55 inch Television", category="electronics"),
        "router": product("Dual Band WiFi Router", category="electronics"),
        "earbuds": product("Sport Earbuds", description="Sweat resistant."),
        "earbuds_red": product("Studio Earbuds", color="Crimson"),
        "case": product("Silicone Case for Nova Phone", category="electronics", reviews=500),
    }
    refresh_search_terms()
    return items


def found(q):
    return catalog_search.search(SearchRequest(q=q))


def test_a_shopper_finds_what_the_catalog_writes_differently(shop):
    assert shop["phone"].pk in found("nova 64gb").ids
    assert found("tshirt").ids == [shop["tee"].pk]
    assert found("t shirt").ids == [shop["tee"].pk]
    assert found("wireless mice").ids == [shop["mouse"].pk]
    assert found("wi-fi router").ids == [shop["router"].pk]
    assert shop["tv"].pk in found("55in tv").ids or shop["tv"].pk in found("55 inch tv").ids


def test_synonyms_staff_add_take_effect_at_once(shop):
    assert found("buds").ids == []
    SearchSynonym.objects.create(terms="buds, earbuds")
    assert set(found("buds").ids) == {shop["earbuds"].pk, shop["earbuds_red"].pk}


def test_attribute_values_are_searchable(shop):
    result = found("crimson earbuds")  # the colour is only in the attributes
    assert result.ids[0] == shop["earbuds_red"].pk and result.partial == len(result.ids) - 1


def test_one_extra_word_does_not_hide_the_rest(shop):
    result = found("sport earbuds waterproof")  # no product says waterproof
    assert result.ids[0] == shop["earbuds"].pk
    assert result.widened  # nothing had every word: the page says so, and offers a spelling
    # Products with all the words come before those with most of them.
    strict = found("studio earbuds crimson")
    assert strict.ids == [shop["earbuds_red"].pk] and not strict.widened


def test_a_query_of_stop_words_alone_lists_the_newest(shop, client):
    response = client.get("/search/?q=the+for")
    assert response.status_code == 200
    assert response.context["search"].effective_sort == "newest"
    assert len(response.context["products"]) == len(shop)


def test_the_product_outranks_its_accessory(shop):
    # The case names the phone too, and is far more popular; the phone's title is about the phone.
    assert found("nova phone").ids[:2] == [shop["phone"].pk, shop["case"].pk]


@pytest.mark.parametrize("q", ["²", "½ ①", "nova²"])
def test_number_signs_that_are_not_digits_part_words(shop, client, q):
    # "²" is a digit to Python but no lexeme to PostgreSQL: both backends read it as punctuation.
    response = client.get("/search/", {"q": q})
    found = [product.pk for product in response.context["products"]]
    assert response.status_code == 200
    assert shop["phone"].pk in found if q == "nova²" else len(found) == len(shop)

