"""manage.py backup and restore, as an owner runs them: the demo shop (with an uploaded
file) is backed up, restored into an empty database and compared table by table, row
by row (dumpdata of every model); a backup taken before the newest migration comes back
into the newer schema, and old backups are pruned. On SQLite always, on Postgres in
CI's services stage."""

import subprocess
import sys
import uuid
from pathlib import Path

import psycopg2
import pytest
from django.db import connection

from tests.conftest import ROOT


def manage(env: dict, *args: str, ok: bool = True) -> subprocess.CompletedProcess:
    base = {"PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin", "DJANGO_DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert (done.returncode == 0) == ok, done.stdout + done.stderr
    return done


@pytest.fixture(
    params=[
        pytest.param("sqlite", marks=pytest.mark.own_sqlite),
        pytest.param("postgresql", marks=pytest.mark.services),
    ]
)
def databases(request, tmp_path):
    """database(name) -> the DATABASE_URL of a new, empty database of that kind. Each
    kind runs in the stage of its own database (SQLite in `make test`, Postgres in CI's
    second stage), not twice."""
    if request.param != connection.vendor:
        pytest.skip(f"the {request.param} variant runs in the {request.param} stage")
    created = []

    def make(name: str) -> str:
        if request.param == "sqlite":
            return f"sqlite:///{tmp_path / name}.sqlite3"
        database = f"cs_backup_{name}_{uuid.uuid4().hex[:8]}"
        server = psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres")
        server.autocommit = True
        server.cursor().execute(f'CREATE DATABASE "{database}"')
        server.close()
        created.append(database)
        return f"postgres://postgres@127.0.0.1:5432/{database}"

    yield make
    if created:
        server = psycopg2.connect("postgres://postgres@127.0.0.1:5432/postgres")
        server.autocommit = True
        for database in created:
            server.cursor().execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        server.close()


def demo_shop(env: dict) -> None:
    manage(env, "migrate", "-v0")
    manage(env, "load_demo", "--synthetic", "--customers", "150")
    manage(env, "score")
    upload = Path(env["MEDIA_ROOT"]) / "imports" / "orders-2026.csv"
    upload.parent.mkdir(parents=True)
    upload.write_text("external_id,customer_external_id,occurred_at,amount\no1,c1,2026-01-01,10\n")


def test_the_demo_shop_comes_back_row_by_row(databases, tmp_path):
    source = {"DATABASE_URL": databases("source"), "MEDIA_ROOT": str(tmp_path / "media")}
    demo_shop(source)
    written = manage(source, "backup", "--output", str(tmp_path / "backups")).stdout
    (archive,) = (tmp_path / "backups").glob("cs_platform-backup-*.tar.gz")
    assert str(archive) in written

    target = {"DATABASE_URL": databases("target"), "MEDIA_ROOT": str(tmp_path / "restored")}
    restored = manage(target, "restore", str(archive)).stdout
    assert "Restored the backup" in restored
    everything = ["dumpdata", "--natural-foreign", "--indent", "0"]
    before, after = manage(source, *everything).stdout, manage(target, *everything).stdout
    assert len(before) > 500_000 and before == after
    copied = tmp_path / "restored" / "imports" / "orders-2026.csv"
    assert copied.read_text().startswith("external_id,")

    # Restoring again over the data is refused, and nothing is touched.
    refused = manage(target, "restore", str(archive), ok=False).stderr
    assert "The database is not empty" in refused


def test_a_backup_from_before_an_upgrade_restores_into_the_newer_schema(databases, tmp_path):
    source = {"DATABASE_URL": databases("old"), "MEDIA_ROOT": str(tmp_path / "media")}
    manage(source, "migrate", "-v0")
    manage(source, "load_demo", "--synthetic", "--customers", "50")
    manage(source, "migrate", "metrics", "0008", "-v0")  # as it stood before the heartbeat
    backups = tmp_path / "backups"
    backups.mkdir()
    for day in range(1, 5):
        (backups / f"cs_platform-backup-2026110{day}-020000.tar.gz").write_bytes(b"old")
    kept = manage(source, "backup", "--output", str(backups), "--keep", "2").stdout
    # Old backups are pruned to the newest few: the three oldest go, this one stays.
    assert "Removed 3 older backup(s); 2 kept." in kept
    oldest, archive = sorted(backups.iterdir())
    assert oldest.name == "cs_platform-backup-20261104-020000.tar.gz"

    target = {"DATABASE_URL": databases("new"), "MEDIA_ROOT": str(tmp_path / "restored")}
    manage(target, "restore", str(archive))
    plan = manage(target, "showmigrations", "metrics").stdout
    assert "[X] 0009_scoring_heartbeat" in plan
    customers = "from customers.models import Customer; print(Customer.objects.count())"
    assert manage(target, "shell", "-c", customers).stdout.split()[-1] == "50"
