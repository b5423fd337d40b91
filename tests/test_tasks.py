"""Celery tasks: eager by default, and (CI services stage) a real worker end to end."""

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.base import ContentFile
from django.db import connection

from cs_platform.benchmarking import current_database_url
from customers.models import Customer, ImportJob
from customers.tasks import purge_old_import_files, run_import

ROOT = Path(__file__).resolve().parent.parent
CSV = b"external_id,name,email\nc1,Ana,ana@example.com\nc2,Bo,bo@example.com\n"


def make_job(content=CSV, kind="customers") -> ImportJob:
    job = ImportJob(kind=kind, original_name="c.csv")
    job.file.save("c.csv", ContentFile(content), save=True)
    return job


@pytest.mark.django_db
def test_running_an_import_task_twice_imports_once():
    job = make_job()
    assert run_import.delay(job.pk).get() == "done"
    job.refresh_from_db()
    assert (job.created, job.rows_total) == (2, 2)
    Customer.objects.filter(external_id="c1").update(name="Edited since")
    assert run_import.delay(job.pk).get() == "done"
    assert Customer.objects.get(external_id="c1").name == "Edited since"


@pytest.mark.django_db
def test_a_task_redelivered_after_a_worker_died_finishes_the_import():
    job = make_job()
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    assert run_import.delay(job.pk).get() == "done"
    assert Customer.objects.count() == 2


@pytest.mark.django_db
def test_a_rejected_file_is_recorded_with_its_errors():
    job = make_job(b"external_id,email\nc1,broken\n")
    assert run_import.delay(job.pk).get() == "failed"
    job.refresh_from_db()
    assert job.errors[0]["row"] == 2 and job.errors[0]["column"] == "email"
    assert Customer.objects.count() == 0


@pytest.mark.django_db
def test_old_import_files_are_purged_but_jobs_stay():
    from django.utils import timezone

    job = make_job()
    run_import.delay(job.pk).get()
    ImportJob.objects.filter(pk=job.pk).update(
        finished_at=timezone.now() - timezone.timedelta(days=40)
    )
    path = Path(job.file.path)
    assert path.exists()
    assert purge_old_import_files.delay().get() == 1
    assert not path.exists() and ImportJob.objects.get(pk=job.pk).file.name == ""


@pytest.fixture
def real_worker():
    """A `celery worker` process on the test database and the configured Redis."""
    if connection.vendor != "postgresql":
        pytest.fail("the real-worker test needs DATABASE_URL to point at Postgres")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "cs_platform.test_settings",
        "DATABASE_URL": current_database_url(),
        "TEST_MEDIA_ROOT": str(settings.MEDIA_ROOT),
    }
    from cs_platform.celery import app

    app.control.purge()
    app.conf.task_always_eager = False
    worker = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "cs_platform",
            "worker",
            "--pool=solo",
            "-Q",
            settings.CELERY_TASK_DEFAULT_QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--loglevel=INFO",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield worker
    app.conf.task_always_eager = True
    if worker.poll() is None:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_imports_an_uploaded_file_end_to_end(real_worker, owner_client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("customers.csv", CSV, content_type="text/csv")
    response = owner_client.post("/import/", {"kind": "customers", "file": upload})
    status_url = response["Location"]
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        page = owner_client.get(status_url, headers={"HX-Request": "true"}).content.decode()
        if "row(s):" in page or "Nothing was imported" in page:
            break
        assert real_worker.poll() is None, real_worker.stdout.read()
        time.sleep(0.5)
    assert "2 customers row(s): 2 new" in page
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"c1", "c2"}
    real_worker.terminate()
    log = real_worker.communicate(timeout=30)[0]
    assert re.search(r"Task customers\.run_import\[[0-9a-f-]+\] succeeded", log), log


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_runs_a_chunked_scoring_run(real_worker):
    from metrics.models import CustomerScore, ScoringRun
    from metrics.tasks import start_scoring
    from tests.scoring_data import AS_OF, load_into_db, shop

    load_into_db(shop(customers=300, seed=8))
    start_scoring.delay(chunks=2, as_of=AS_OF.date().isoformat())
    deadline = time.monotonic() + 180
    run = None
    while time.monotonic() < deadline:
        run = ScoringRun.objects.filter(as_of=AS_OF.date()).first()
        if run and run.status != "running":
            break
        assert real_worker.poll() is None, real_worker.stdout.read()
        time.sleep(1)
    assert run is not None and run.status == "succeeded", run and run.error
    assert run.is_current and CustomerScore.objects.filter(run=run).count() == 300
    real_worker.terminate()
    log = real_worker.communicate(timeout=30)[0]
    assert len(re.findall(r"Task metrics\.score_part\[[0-9a-f-]+\] succeeded", log)) == 2, log
