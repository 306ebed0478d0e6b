"""Cache entries of changed rows are dropped after commit, all at once."""
import pytest
from django.core.cache import cache
from django.db import transaction

from amazon_site.core.cache import forget_on_commit

pytestmark = pytest.mark.django_db(transaction=True)


def test_entries_go_only_when_the_transaction_commits(monkeypatch):
    cache.set_many({"a": 1, "b": 2})
    calls = []
    real = cache.delete_many
    monkeypatch.setattr(cache, "delete_many", lambda keys: calls.append(sorted(keys)) or real(keys))

    with transaction.atomic():
        forget_on_commit(["a"])
        forget_on_commit(["b"])
        assert cache.get("a") == 1  # still there while the change is uncommitted

    assert calls == [["a", "b"]]
    assert cache.get_many(["a", "b"]) == {}


def test_a_rolled_back_transaction_leaves_its_keys_for_the_next_commit():
    cache.set_many({"a": 1, "c": 3})
    with pytest.raises(RuntimeError), transaction.atomic():
        forget_on_commit(["a"])
        raise RuntimeError
    assert cache.get("a") == 1

    with transaction.atomic():
        forget_on_commit(["c"])
    assert cache.get_many(["a", "c"]) == {}
