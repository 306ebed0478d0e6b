from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "orders"

    def ready(self):
        from amazon_site.core import dashboard

        from . import selectors

        dashboard.register("Orders", selectors.staff_dashboard, permission="orders.view_order", position=10)
