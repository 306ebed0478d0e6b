from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from . import signals  # noqa: F401  (connects the receivers)

        connection_created.connect(_sqlite_search_functions)


def _sqlite_search_functions(connection, **kwargs):
    """SQLite's search triggers call Python for the joined forms (PostgreSQL has them in SQL)."""
    if connection.vendor == "sqlite":
        from .search.analysis import variants

        connection.connection.create_function("catalog_search_variants", 1, variants, deterministic=True)
