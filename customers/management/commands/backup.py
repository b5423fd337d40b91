"""manage.py backup: a compressed, versioned copy of all data and uploaded files."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from cs_platform import backup


class Command(BaseCommand):
    help = "Write a backup archive (database and uploaded files) and keep the newest few."

    def add_arguments(self, parser):
        parser.add_argument("--output", default=settings.BACKUP_DIR, help="Directory")
        parser.add_argument(
            "--keep", type=int, default=settings.BACKUP_KEEP, help="Archives to keep (0: all)"
        )

    def handle(self, *args, output, keep, **options):
        directory = Path(output)
        try:
            path = backup.create(directory)
        except backup.BackupError as exc:
            raise CommandError(str(exc)) from exc
        removed = backup.prune(directory, keep) if keep else []
        size = path.stat().st_size / 1024 / 1024
        self.stdout.write(f"Backup written: {path} ({size:.1f} MB)")
        if removed:
            self.stdout.write(f"Removed {len(removed)} older backup(s); {keep} kept.")
