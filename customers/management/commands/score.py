import sys
from datetime import date

from django.core.management.base import BaseCommand, CommandError

from customers.dashboard import digest
from customers.followups.nightly import score_and_refresh
from metrics.churn import RANKINGS
from metrics.run import ScoringLocked


class Command(BaseCommand):
    help = "Rescore every customer now (what the nightly Celery task does); for cron users."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: today)")

    def handle(self, as_of=None, **options):
        def progress(done, total):
            self.stdout.write(f"scored {done:,} of {total:,} customers")
            sys.stdout.flush()

        try:
            run = score_and_refresh(as_of=as_of, progress=progress)
        except ScoringLocked as exc:
            raise CommandError(f"{exc}; try again when it has finished") from exc
        except Exception as exc:
            raise CommandError(f"Scoring failed, the previous scores stay in place: {exc}") from exc
        churn = run.model_metrics.get("churn", {})
        quality = (
            "held-out AUC "
            + ", ".join(
                f"{name} {churn['rankings'][name]:.3f}"
                for name in RANKINGS
                if churn["rankings"].get(name) is not None
            )
            if churn.get("rankings")
            else churn.get("reason", "")
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Scoring run {run.pk} for {run.as_of}: {run.customers:,} customers in "
                f"{run.duration_seconds:.1f} s; churn ranking: {churn.get('method')} ({quality})."
            )
        )
        for stage, seconds in run.timings.items():
            self.stdout.write(f"  {stage:<20} {seconds:8.2f} s")
        if as_of is None:  # a backfill is no news for the morning
            digest.send_safely()
