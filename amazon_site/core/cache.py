"""Cache entries that describe rows a transaction changes, dropped once it commits.

A transaction that changes a cart and a product's stock drops all its entries
with one call to the cache (one Valkey round trip) after commit: never
before, or a reader could cache the old rows again in between.
"""
from django.core.cache import cache
from django.db import connection, transaction


def forget_on_commit(keys) -> None:
    # Per connection, so per thread. Keys left by a rolled-back transaction
    # go at the next commit: a spare cache miss, never a stale entry.
    connection.__dict__.setdefault("_cache_keys_to_forget", set()).update(keys)
    transaction.on_commit(_forget_pending)


def _forget_pending() -> None:
    pending = connection.__dict__.get("_cache_keys_to_forget")
    if pending:  # the first callback of a commit takes them all
        keys = list(pending)
        pending.clear()
        cache.delete_many(keys)
