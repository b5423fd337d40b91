"""Import tasks: eager by default, and (CI services stage) a real worker end to end."""

import re
import time
from pathlib import Path

import pytest
from django.core.files.base import ContentFile

from customers.imports.tasks import purge_old_import_files, run_import
from customers.models import Customer, ImportJob

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
        if "rows of" in page or "Nothing was imported" in page:
            break
        assert real_worker.poll() is None, real_worker.stdout.read()
        time.sleep(0.5)
    assert "2 rows of customers: 2 new" in page
    assert set(Customer.objects.values_list("external_id", flat=True)) == {"c1", "c2"}
    real_worker.terminate()
    log = real_worker.communicate(timeout=30)[0]
    assert re.search(r"Task customers\.run_import\[[0-9a-f-]+\] succeeded", log), log
