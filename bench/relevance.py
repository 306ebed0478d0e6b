"""Relevance of the store's search next to textbook BM25, on the hand-judged set in tests/data/relevance/.

Creates a throwaway test database on DATABASE_URL's server (SQLite: in
memory), loads the set through the ORM, ranks every judged query with both
and prints one JSON line of mean NDCG@10, overall and per trap. The database
is destroyed afterwards; the one DATABASE_URL names is never touched.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/amazon_relevance .venv/bin/python bench/relevance.py
"""
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amazon_site.settings")
os.environ.setdefault("DEBUG", "1")
# The set lives in the throwaway database only: no Elasticsearch index holds
# it, and a shared cache must neither serve its category tree to the store
# nor serve the store's tree to it.
os.environ["ELASTICSEARCH_URL"] = ""
os.environ["VALKEY_URL"] = ""

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_test_environment, teardown_test_environment  # noqa: E402

from tests.catalog.relevance import evaluate, load_into_database, read_set  # noqa: E402


def main():
    products, queries = read_set()
    if connection.vendor != "sqlite":
        # Its own name, so that a test run on the same server keeps its test_<name> database.
        connection.settings_dict["TEST"]["NAME"] = f"test_{connection.settings_dict['NAME']}_relevance_bench"
    setup_test_environment()
    database = connection.vendor
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        report = evaluate(products, queries, load_into_database(products))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)
        teardown_test_environment()
    print(
        json.dumps(
            {
                "queries": len(report.rows),
                "products": len(products),
                "store_ndcg10": round(report.store_ndcg, 4),
                "bm25_ndcg10": round(report.bm25_ndcg, 4),
                "delta": round(report.store_ndcg - report.bm25_ndcg, 4),
                "by_trap": report.by_trap(),
                "database": database,
            }
        )
    )


if __name__ == "__main__":
    main()
