"""Celery tasks for the nightly run: score (metrics.run), then refresh the queue.
They live with the queue, above scoring; their names keep the "metrics." prefix that
beat schedules and running workers know."""

import logging

from celery import chord, shared_task
from django.utils import timezone

from metrics import run as runs
from metrics.models import AccountSettings, CustomerScore, ScoringRun

from . import nightly

log = logging.getLogger(__name__)


@shared_task(name="metrics.nightly_scoring")
def nightly_scoring(chunks: int = 1) -> str:
    """Beat calls this hourly; it starts the day's run at the owner's chosen hour
    (so the hour can change in settings without restarting beat) and only once a day."""
    account = AccountSettings.load()
    now = timezone.localtime(timezone=account.zone)
    if now.hour != account.nightly_hour:
        return "not the hour"
    if ScoringRun.objects.filter(as_of=now.date(), status=ScoringRun.Status.SUCCEEDED).exists():
        return "already done today"
    return start_scoring(chunks=chunks)


@shared_task(name="metrics.start_scoring")
def start_scoring(chunks: int = 1, as_of: str | None = None) -> str:
    """Fit once, then score `chunks` slices of the customers in parallel tasks."""
    day = timezone.localdate() if as_of is None else timezone.datetime.fromisoformat(as_of).date()
    try:
        run = runs.start_run(day)
    except runs.ScoringLocked:
        log.warning("scoring already running; not starting another")
        return "locked"
    try:
        fitted = runs.fit(run)
        runs.save_fitted(run, fitted)
    except Exception as exc:
        runs.fail(run, exc)
        raise
    parts = [score_part.si(run.pk, k, chunks) for k in range(chunks)]
    chord(parts)(finish_scoring.si(run.pk).on_error(scoring_failed.si(run.pk)))
    return f"run {run.pk} started in {chunks} chunk(s)"


@shared_task(name="metrics.score_part", acks_late=True)
def score_part(run_id: int, part: int, parts: int) -> int:
    """Score every `parts`-th customer starting at `part`. Safe to run twice: the
    part's earlier rows are deleted first."""
    run = ScoringRun.objects.get(pk=run_id)
    fitted = runs.load_fitted(run_id)
    ids = fitted.facts.index[part::parts]
    CustomerScore.objects.filter(run=run, customer_id__in=list(map(int, ids))).delete()
    return runs.score_and_write(run, fitted, ids)


@shared_task(name="metrics.finish_scoring")
def finish_scoring(run_id: int) -> str:
    run = ScoringRun.objects.get(pk=run_id)
    if run.status != ScoringRun.Status.RUNNING:
        return run.status
    try:
        nightly.finish(run, runs.load_fitted(run_id))
    except Exception as exc:
        runs.fail(run, exc)
        raise
    return "succeeded"


@shared_task(name="metrics.scoring_failed")
def scoring_failed(run_id: int) -> None:
    run = ScoringRun.objects.get(pk=run_id)
    if run.status == ScoringRun.Status.RUNNING:
        runs.fail(run, RuntimeError("a scoring chunk failed; see the worker log"))
