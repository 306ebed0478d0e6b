"""The store's search against a hand-judged set: it must rank at least as well as textbook BM25.

The set (tests/data/relevance/) holds the traps a real store meets: plurals,
spellings of units and hyphens, brands that are common words, words only in
descriptions or attributes, typos, synonyms and accessories beside the thing
itself. Grades were written as a shopper would judge, not fitted to an engine.
"""
import pytest
from django.db import transaction
from django.test import override_settings

from tests.catalog.relevance import BM25Baseline, evaluate, load_into_database, ndcg_at_10, read_set

PRODUCTS, QUERIES = read_set()


@pytest.fixture(scope="module")
def report(django_db_setup, django_db_blocker):
    """Loaded once for the module and rolled back after ranking: every query reads the same catalog."""
    # The set lives in the database only; an Elasticsearch index would not hold it.
    with django_db_blocker.unblock(), override_settings(ELASTICSEARCH_URL=""), transaction.atomic():
        result = evaluate(PRODUCTS, QUERIES, load_into_database(PRODUCTS))
        transaction.set_rollback(True)
    return result


def test_the_judged_set_is_sound():
    keys = [product["key"] for product in PRODUCTS]
    assert len(PRODUCTS) >= 90 and len(set(keys)) == len(keys)
    assert len({tuple(product["category"]) for product in PRODUCTS}) >= 6
    assert len(QUERIES) >= 60 and len({query["query"] for query in QUERIES}) == len(QUERIES)
    for query in QUERIES:
        judgements = query["judgements"]
        assert set(judgements) <= set(keys), query["query"]
        assert set(judgements.values()) <= {0, 1, 2}, query["query"]
        assert 2 in judgements.values(), f"{query['query']!r} has no product that is exactly what was asked"


def test_ndcg_follows_the_standard_definition():
    judgements = {"a": 2, "b": 1, "c": 0}
    assert ndcg_at_10(["a", "b"], judgements) == 1.0
    assert ndcg_at_10([], judgements) == 0.0
    assert ndcg_at_10(["x", "a"], judgements) == pytest.approx((3 / 1.5849625) / (3 + 1 / 1.5849625), rel=1e-6)


def test_the_baseline_stems_and_reads_attributes():
    bm25 = BM25Baseline(PRODUCTS)
    assert bm25.rank("stockpots") == ["ck-cuisinart-stockpot"]  # its title says "Stockpot"
    assert bm25.rank("university red")[0] == "sh-nike-pegasus40"  # a colour in its attributes only


# The mark asks for the test database the module fixture loads into:
# pytest-django creates databases only for tests that ask for one.
@pytest.mark.django_db
def test_store_ranks_at_least_as_well_as_bm25(report):
    print("\n" + report.summary())
    store, bm25 = report.store_ndcg, report.bm25_ndcg
    assert store >= bm25, f"store NDCG@10 {store:.4f} is below BM25's {bm25:.4f}"
