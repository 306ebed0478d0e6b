from django.apps import AppConfig
from django.db.backends.signals import connection_created


class CatalogConfig(AppConfig):
    name = "catalog"
    verbose_name = "Catalog"

    def ready(self):
        from amazon_site.core import dashboard

        from . import selectors, signals  # noqa: F401  (signals connects the receivers)

        dashboard.register("Catalog", selectors.staff_dashboard, permission="catalog.view_product", position=20)

        connection_created.connect(_sqlite_search_functions)


def _sqlite_search_functions(connection, **kwargs):
    """SQLite's search triggers call Python for the joined forms (PostgreSQL has them in SQL)."""
    if connection.vendor == "sqlite":
        from .search import analysis

        for name in ("variants", "title_head", "title_for"):
            function = getattr(analysis, name)
            connection.connection.create_function(f"catalog_search_{name}", 1, function, deterministic=True)
