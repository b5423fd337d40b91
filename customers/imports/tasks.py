import logging
from datetime import timedelta

from celery import shared_task
from django.utils import timezone

from customers.models import ImportJob
from metrics.models import AccountSettings

from .load import Progress, import_csv

log = logging.getLogger(__name__)


class JobProgress(Progress):
    """Stores validation progress on the ImportJob so the upload page can show it."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.done = 0

    def start(self, phase: str, total: int) -> None:
        self.done = 0
        if phase == "validating":
            ImportJob.objects.filter(pk=self.job.pk).update(rows_total=total, rows_done=0)

    def advance(self, rows: int) -> None:
        self.done += rows
        ImportJob.objects.filter(pk=self.job.pk).update(rows_done=self.done)


@shared_task(name="customers.run_import", acks_late=True)
def run_import(job_id: int) -> str:
    """Import an uploaded file. Safe to run twice: a finished job is left alone, and the
    import itself is all-or-nothing and idempotent by external id."""
    job = ImportJob.objects.get(pk=job_id)
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return job.status
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.RUNNING)
    with job.file.open("rb") as binary:
        report = import_csv(
            job.kind, binary, AccountSettings.cached().currency_code, JobProgress(job)
        )
    job.refresh_from_db()
    job.status = ImportJob.Status.DONE if report.ok else ImportJob.Status.FAILED
    job.rows_total = job.rows_done = report.rows
    job.created, job.updated = report.created, report.changed
    job.errors = report.errors
    job.message = report.summary()
    job.report = report.counts()
    job.finished_at = timezone.now()
    job.save()
    log.info("import %s: %s", job.pk, job.message)
    return job.status


@shared_task(name="customers.purge_old_import_files")
def purge_old_import_files(days: int = 30) -> int:
    """Uploaded files are kept for a month for reference, then deleted (the rows stay)."""
    old = ImportJob.objects.filter(finished_at__lt=timezone.now() - timedelta(days=days)).exclude(
        file=""
    )
    count = 0
    for job in old:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")
        count += 1
    return count
