import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def empty_cache():
    """Each test starts with an empty cache: the database is rolled back between
    tests, so anything cached from an earlier test would describe rows that no
    longer exist."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def small_pages(settings):
    settings.CATALOG_PAGE_SIZE = 2
    settings.CATALOG_MAX_PAGES = 3
    return settings
