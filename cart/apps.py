from django.apps import AppConfig


class CartConfig(AppConfig):
    name = "cart"

    def ready(self):
        from catalog import stock

        from . import jobs, selectors, signals  # noqa: F401  (signals connects the log-in receiver)

        stock.count_lapsed_with(selectors.lapsed_units)
        stock.release_lapsed_with(jobs.release_expired)
