from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from customers.imports.load import KINDS, Progress, import_csv
from metrics.models import AccountSettings


class BarProgress(Progress):
    """A tqdm bar per phase on stderr (tqdm stays quiet when stderr is not a terminal)."""

    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.bar = None

    def start(self, phase: str, total: int) -> None:
        self.close()
        if self.enabled:
            self.bar = tqdm(total=total, desc=phase, unit="rows", unit_scale=True, leave=True)

    def advance(self, rows: int) -> None:
        if self.bar:
            self.bar.update(rows)

    def close(self):
        if self.bar:
            self.bar.close()
            self.bar = None


class Command(BaseCommand):
    help = (
        "Import customers, orders or interactions from a CSV file. Every row is checked; "
        "if any is invalid nothing is written and the problems are listed."
    )

    def add_arguments(self, parser):
        parser.add_argument("kind", choices=KINDS)
        parser.add_argument("file")
        parser.add_argument(
            "--no-progress", action="store_true", help="Do not draw a progress bar."
        )

    def handle(self, kind, file, no_progress=False, **options):
        progress = BarProgress(enabled=not no_progress)
        try:
            with open(file, "rb") as binary:
                report = import_csv(kind, binary, AccountSettings.cached().currency_code, progress)
        except FileNotFoundError as exc:
            raise CommandError(f"No such file: {file}") from exc
        finally:
            progress.close()
        if not report.ok:
            for error in report.errors:
                column = f" [{error['column']}]" if error["column"] else ""
                value = f" {error['value']!r}" if error["value"] else ""
                self.stderr.write(f"row {error['row']}{column}{value}: {error['message']}")
            if report.error_count > len(report.errors):
                self.stderr.write(f"... and {report.error_count - len(report.errors)} more")
            raise CommandError(report.summary())
        self.stdout.write(self.style.SUCCESS(report.summary()))
