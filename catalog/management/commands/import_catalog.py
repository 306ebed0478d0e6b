import csv
import sys

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from catalog.importing.feeds import FeedError
from catalog.importing.services import DEFAULT_BATCH_SIZE, MAX_BATCH_SIZE, ImportStopped, import_file

SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    help = (
        "Load or update products by SKU from a CSV or JSON Lines feed (title, description, brand, category, price, "
        "attributes, image, stock per warehouse...). Rows that cannot be loaded are reported, never loaded half."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="A .csv file (with a header row) or a .jsonl file.")
        parser.add_argument(
            "--seller", help="Seller of new products whose row names none (created if the store has no such seller)."
        )
        parser.add_argument(
            "--report", help="Write every rejected row (line, sku, field, reason) to this CSV file."
        )
        parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE, help="Rows per transaction.")

    def handle(self, *args, file, seller, report, batch_size, **options):
        if not 1 <= batch_size <= MAX_BATCH_SIZE:
            raise CommandError(f"--batch-size must be between 1 and {MAX_BATCH_SIZE}.")
        bar = tqdm(unit=" rows", disable=options["verbosity"] == 0, file=sys.stderr)
        try:
            outcome = import_file(file, batch_size=batch_size, default_seller=seller, progress=bar.update)
        except FeedError as error:
            raise CommandError(str(error)) from None
        except ImportStopped as stopped:
            self._summarise(stopped.report, report)
            raise CommandError(str(stopped)) from None
        finally:
            bar.close()
        self._summarise(outcome, report)

    def _summarise(self, outcome, report_path):
        self.stdout.write(
            f"{outcome.rows} rows in {outcome.seconds:.1f} s: {outcome.created} products created, "
            f"{outcome.updated} updated, {outcome.unchanged} unchanged, {len(outcome.rejections)} rejected."
        )
        for rejection in outcome.rejections[:SHOWN_REJECTIONS]:
            where = f" {rejection.field}:" if rejection.field else ""
            self.stdout.write(f"  line {rejection.row} {rejection.sku or '(no SKU)'}:{where} {rejection.reason}")
        if len(outcome.rejections) > SHOWN_REJECTIONS and not report_path:
            self.stdout.write(f"  … and {len(outcome.rejections) - SHOWN_REJECTIONS} more: --report FILE lists them all.")
        if report_path:
            with open(report_path, "w", newline="", encoding="utf-8") as handle:
                writer = csv.writer(handle)
                writer.writerow(["line", "sku", "field", "reason"])
                writer.writerows((r.row, r.sku, r.field, r.reason) for r in outcome.rejections)
            self.stdout.write(f"Rejected rows written to {report_path}.")
