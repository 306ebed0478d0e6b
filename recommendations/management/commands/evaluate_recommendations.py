import argparse
from json import dumps
from pathlib import Path
from datetime import timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from recommendations import evaluation, selectors
from recommendations.scoring import Rules


def _share(value):
    try:
        share = float(value)
    except ValueError:
        share = None
    if share is None or not 0 < share < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a share between 0 and 1 (e.g. 0.2)")
    return share


class Command(BaseCommand):
    help = (
        "Hold out some orders (each customer's last, or with --split baskets a share of baskets), learn from the "
        "rest, hide one product of each held-out order and rank for the others: print a table of HitRate@10, "
        "MRR@10 and coverage of the store's cart shelf, popularity and item-item cosine (--json: JSON lines)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--orders-csv",
            metavar="FILE",
            help="Evaluate these orders (order_id,customer_id,product_id[,timestamp]) instead of the store's "
            "paid orders in the recommendations window.",
        )
        parser.add_argument(
            "--columns",
            metavar="MAPPING",
            help="Read --orders-csv by its header's names, e.g. order=Transaction,product=Item,time=Date+Time "
            "(customer=... optional; without it every order is its own customer).",
        )
        parser.add_argument(
            "--skip-product",
            action="append",
            default=[],
            metavar="VALUE",
            help="Leave out rows with this product (a placeholder such as NONE); repeatable.",
        )
        parser.add_argument(
            "--split",
            choices=evaluation.SPLITS,
            default="customers",
            help="customers: hold out each customer's last order (default). baskets: hold out the latest share "
            "of baskets, or a seeded random share when the orders have no times; for market-basket data.",
        )
        parser.add_argument("--holdout", type=_share, default=0.2, help="Share of baskets held out (--split baskets).")
        parser.add_argument(
            "--seed", type=int, nargs="+", default=[0], metavar="N",
            help="Seed of the hidden products (and of the random share of --split baskets); several: a row set each.",
        )
        parser.add_argument("--json", action="store_true", help="One JSON line per seed instead of the table.")

    def handle(self, *args, orders_csv, columns, skip_product, split, holdout, seed, json, **options):
        try:
            if orders_csv:
                mapping = evaluation.parse_columns(columns) if columns else None
                orders = evaluation.orders_from_csv(orders_csv, columns=mapping, skip_products=skip_product)
            else:
                if columns or skip_product:
                    raise CommandError("--columns and --skip-product read --orders-csv; give the file too.")
                since = timezone.now() - timedelta(days=settings.RECOMMENDATIONS_WINDOW_DAYS)
                orders = evaluation.orders_from_database(selectors.paid_baskets(since=since))
            dataset = Path(orders_csv).name if orders_csv else "store orders"
            results = [
                {"dataset": dataset, **evaluation.evaluate(orders, Rules.from_settings(), split=split, holdout=holdout, seed=each)}
                for each in seed
            ]
        except (evaluation.EvaluationError, OSError) as error:
            raise CommandError(str(error)) from error
        if json:
            for result in results:
                self.stdout.write(dumps(result))
            return
        self.stdout.write(evaluation.table(results))
