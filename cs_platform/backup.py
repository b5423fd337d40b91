"""Backup and restore of all the owner's data: the database (Postgres through pg_dump,
SQLite through its online backup API, both consistent while the app runs) and the
uploaded files, in one compressed, versioned archive.

An archive is a .tar.gz holding manifest.json (format, when, which database, the
migrations applied, rows per table), database.pgdump or database.sqlite3, and media/.
A restore goes into an empty database of the same kind and then migrates it, so a
backup taken before an upgrade comes back into the newer schema."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.db.migrations.recorder import MigrationRecorder
from django.utils import timezone

FORMAT = 1
PREFIX = "cs_platform-backup-"
DUMP = {"postgresql": "database.pgdump", "sqlite": "database.sqlite3"}


class BackupError(Exception):
    """A backup or restore that cannot be done, with the reason for the owner."""


def create(directory: Path, now: datetime | None = None) -> Path:
    """Write a new archive into `directory`; returns its path."""
    now = now or timezone.now()
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / f"{PREFIX}{now:%Y%m%d-%H%M%S}.tar.gz"
    with tempfile.TemporaryDirectory() as scratch:
        dump = Path(scratch) / DUMP[_vendor()]
        _dump_database(dump)
        manifest = Path(scratch) / "manifest.json"
        manifest.write_text(json.dumps(_manifest(now), indent=1, sort_keys=True))
        partial = target.with_name(target.name + ".partial")
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(manifest, "manifest.json")
            archive.add(dump, dump.name)
            media = Path(settings.MEDIA_ROOT)
            if media.is_dir():
                archive.add(media, "media")
        partial.rename(target)  # a half-written archive never looks like a backup
    return target


def prune(directory: Path, keep: int) -> list[Path]:
    """Delete all but the newest `keep` archives; returns those deleted."""
    archives = sorted(directory.glob(f"{PREFIX}*.tar.gz"))
    old = archives[:-keep] if keep > 0 else []
    for path in old:
        path.unlink()
    return old


def restore(path: Path) -> dict:
    """Bring an archive back into this (empty) database and MEDIA_ROOT, then migrate.
    Returns the archive's manifest."""
    if not path.is_file():
        raise BackupError(f"No such file: {path}")
    with tarfile.open(path, "r:gz") as archive, tempfile.TemporaryDirectory() as scratch:
        manifest = json.load(archive.extractfile("manifest.json"))
        if manifest.get("format", 0) > FORMAT:
            raise BackupError("This backup was written by a newer version; upgrade first.")
        if manifest["vendor"] != _vendor():
            raise BackupError(
                f"This is a backup of a {manifest['vendor']} database; set DATABASE_URL to "
                f"an empty {manifest['vendor']} database to restore it."
            )
        if connection.introspection.table_names():
            raise BackupError(
                "The database is not empty. Restore into a new, empty database (and "
                "point DATABASE_URL at it)."
            )
        name = DUMP[manifest["vendor"]]
        archive.extract(name, scratch, filter="data")
        _load_database(Path(scratch) / name)
        media = [m for m in archive.getmembers() if m.name.startswith("media/")]
        Path(settings.MEDIA_ROOT).mkdir(parents=True, exist_ok=True)
        for member in media:
            member.name = member.name.removeprefix("media/")
        archive.extractall(settings.MEDIA_ROOT, members=media, filter="data")
    call_command("migrate", verbosity=0)  # a backup from before an upgrade: bring it up
    return manifest


def _vendor() -> str:
    if connection.vendor not in DUMP:
        raise BackupError(f"Backups support PostgreSQL and SQLite, not {connection.vendor}.")
    return connection.vendor


def _manifest(now: datetime) -> dict:
    applied: dict[str, list[str]] = {}
    for app, name in MigrationRecorder(connection).applied_migrations():
        applied.setdefault(app, []).append(name)
    return {
        "format": FORMAT,
        "created_at": now.isoformat(),
        "vendor": connection.vendor,
        "migrations": {app: sorted(names) for app, names in sorted(applied.items())},
        "rows": {
            model._meta.db_table: model._default_manager.count()
            for model in apps.get_models()
            if model._meta.managed
        },
    }


def _pg(command: str, *args: str) -> None:
    """pg_dump/pg_restore with the connection's settings; the password goes in the
    environment, never on the command line."""
    db = settings.DATABASES["default"]
    env = {**os.environ, "PGPASSWORD": str(db.get("PASSWORD") or "")}
    where = ["--host", str(db.get("HOST") or "localhost"), "--port", str(db.get("PORT") or 5432)]
    where += ["--username", str(db.get("USER") or "postgres"), "--dbname", str(db["NAME"])]
    if shutil.which(command) is None:
        raise BackupError(
            f"{command} is not installed (Debian: apt-get install postgresql-client)."
        )
    done = subprocess.run([command, *where, *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{command} failed: {done.stderr.strip()[-2000:]}")


def _dump_database(target: Path) -> None:
    if connection.vendor == "postgresql":
        _pg("pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={target}")
        return
    connection.ensure_connection()
    copy = sqlite3.connect(target)
    try:
        connection.connection.backup(copy)
    finally:
        copy.close()


def _load_database(source: Path) -> None:
    if connection.vendor == "postgresql":
        _pg("pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", str(source))
        return
    connection.ensure_connection()
    backup = sqlite3.connect(source)
    try:
        backup.backup(connection.connection)
    finally:
        backup.close()
