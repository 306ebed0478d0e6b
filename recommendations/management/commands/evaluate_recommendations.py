import json
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import timezone

from recommendations import evaluation, selectors
from recommendations.scoring import Rules


class Command(BaseCommand):
    help = (
        "Hold out each customer's last order, learn the also-bought lists from the rest, and print one JSON "
        "line: hit rate and recall at 10 of the lists and of a popularity baseline."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders-csv",
            metavar="FILE",
            help="Evaluate these orders (order_id,customer_id,product_id[,timestamp]) instead of the store's "
            "paid orders in the recommendations window.",
        )

    def handle(self, *args, orders_csv, **options):
        if orders_csv:
            orders = evaluation.orders_from_csv(orders_csv)
        else:
            since = timezone.now() - timedelta(days=settings.RECOMMENDATIONS_WINDOW_DAYS)
            orders = evaluation.orders_from_database(selectors.paid_baskets(since=since))
        self.stdout.write(json.dumps(evaluation.evaluate(orders, Rules.from_settings())))
