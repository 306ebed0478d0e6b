import resource
import time

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from recommendations import selectors, services


class Command(BaseCommand):
    help = "Compute every product's also-bought list and the bestsellers now, as the nightly job does."

    def add_arguments(self, parser):
        parser.add_argument(
            "--if-missing", action="store_true",
            help="Do nothing when the current lists were computed from orders already (a restart of make run).",
        )

    def handle(self, *args, if_missing, **options):
        # A run over no orders (computed before any existed) counts as missing: its lists are empty.
        if if_missing and (current := selectors.current_run()) and current.baskets:
            self.stdout.write(
                f"Recommendations exist (run {current.pk}, from {current.baskets:,} orders); nothing computed."
            )
            return
        started = time.perf_counter()
        with tqdm(total=len(services.STEPS), unit="step", disable=options["verbosity"] == 0) as bar:

            def progress(step):
                bar.set_postfix_str(step)
                bar.update()

            run = services.compute_recommendations(progress=progress)
        if run is None:
            raise CommandError("Another run is computing recommendations; try again when it has finished.")
        elapsed = time.perf_counter() - started
        steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in run.timings.items())
        # ru_maxrss is in KiB on Linux: this process only; the SQL runs in the database server.
        peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            self.style.SUCCESS(
                f"Run {run.pk}: {run.products:,} products with a list, {run.pairs:,} pairs from {run.baskets:,} "
                f"orders ({run.skipped_orders:,} over the item cap skipped) in {elapsed:.1f} s; "
                f"peak memory of this process {peak_mib:.0f} MiB.\n{steps}."
            )
        )
