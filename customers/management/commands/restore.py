"""manage.py restore FILE: a backup archive back into an empty database."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cs_platform import backup


class Command(BaseCommand):
    help = "Restore a backup archive into an empty database (DATABASE_URL), then migrate."

    def add_arguments(self, parser):
        parser.add_argument("file")

    def handle(self, *args, file, **options):
        try:
            manifest = backup.restore(Path(file))
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        rows = sum(manifest["rows"].values())
        self.stdout.write(
            f"Restored the backup of {manifest['created_at']}: {rows:,} rows, "
            "then migrated to this version."
        )
