"""Celery tasks for the nightly run: score (metrics.run), then refresh the queue.
They live with the queue, above scoring; their names keep the "metrics." prefix that
beat schedules and running workers know."""

import logging
import threading

from celery import chord, shared_task
from django.conf import settings
from django.db import connection
from django.utils import timezone

from cs_platform.broker import enqueue
from customers.dashboard import digest
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


# Acknowledged only when done, and put back on the queue if the worker process is lost
# (killed, out of memory): a redelivered part scores its slice again; a redelivered
# start finds the dead run still holding the lock and leaves it to watch_scoring.
SCORING_TASK = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="metrics.start_scoring", **SCORING_TASK)
def start_scoring(chunks: int = 1, as_of: str | None = None, run_id: int | None = None) -> str:
    """Fit once, then score `chunks` slices of the customers in parallel tasks (of the
    run `run_id` if its row, the lock, was already taken)."""
    day = timezone.localdate() if as_of is None else timezone.datetime.fromisoformat(as_of).date()
    try:
        run = ScoringRun.objects.get(pk=run_id) if run_id else runs.start_run(day)
    except runs.ScoringLocked:
        log.warning("scoring already running; not starting another")
        return "locked"
    try:
        with runs.heartbeat(run.pk):
            fitted = runs.fit(run)
            runs.save_fitted(run, fitted)
    except Exception as exc:
        runs.fail(run, exc)
        raise
    parts = [score_part.si(run.pk, k, chunks) for k in range(chunks)]
    chord(parts)(finish_scoring.si(run.pk).on_error(scoring_failed.si(run.pk)))
    return f"run {run.pk} started in {chunks} chunk(s)"


RESTARTS_PER_DAY = 3  # a run that dies every time (out of memory) is not retried forever


@shared_task(name="metrics.watch_scoring")
def watch_scoring(chunks: int = 1) -> str:
    """Every minute (beat): a run whose process died (no heartbeat for
    SCORING_ABANDONED_SECONDS) is given up and a fresh run for its day is started at
    once; the previous scores stay current until that one succeeds."""
    restarted = []
    for run in runs.reap_abandoned():
        given_up = ScoringRun.objects.filter(
            as_of=run.as_of, status=ScoringRun.Status.FAILED, error__startswith="abandoned"
        ).count()
        if given_up > RESTARTS_PER_DAY:
            log.error("scoring for %s died %s times; not restarting it", run.as_of, given_up)
            continue
        start_scoring.delay(chunks=chunks, as_of=run.as_of.isoformat())
        restarted.append(run.as_of.isoformat())
    return f"restarted {', '.join(restarted)}" if restarted else "nothing abandoned"


class QueueUnavailable(Exception):
    """The broker cannot be reached, so a scoring run cannot start now."""


def start_scoring_now() -> bool:
    """ "Run scoring now" from a page, never inside the request: a task for the worker,
    or without a broker (the embedded default) a thread of this process. Either way
    the run row is the lock, so a second start finds the first. In a thread the row is
    taken here, so the page shows the run at once. False: a run is in progress (a run
    whose worker died is given up first, so it holds nothing)."""
    runs.reap_abandoned()
    if ScoringRun.objects.filter(status=ScoringRun.Status.RUNNING).exists():
        return False
    if not settings.CELERY_TASK_ALWAYS_EAGER:
        if not enqueue(start_scoring):  # the chord needs the broker: no thread fallback
            raise QueueUnavailable
        return True
    try:
        run = runs.start_run(timezone.localdate())
    except runs.ScoringLocked:
        return False
    threading.Thread(
        target=_score_in_thread, args=(run.pk,), name="scoring-now", daemon=True
    ).start()
    return True


def _score_in_thread(run_id: int) -> None:
    try:
        start_scoring(run_id=run_id)
    except Exception:  # recorded on the run row (runs.fail); the page shows it
        log.exception("scoring run started from a page failed")
    finally:
        connection.close()  # the thread's own connection


@shared_task(name="metrics.score_part", **SCORING_TASK)
def score_part(run_id: int, part: int, parts: int) -> int:
    """Score every `parts`-th customer starting at `part`. Safe to run twice: the
    part's earlier rows are deleted first; a run given up meanwhile is left alone."""
    run = ScoringRun.objects.get(pk=run_id)
    if run.status != ScoringRun.Status.RUNNING:
        return 0
    fitted = runs.load_fitted(run_id)
    ids = fitted.facts.index[part::parts]
    CustomerScore.objects.filter(run=run, customer_id__in=list(map(int, ids))).delete()
    with runs.heartbeat(run.pk):
        return runs.score_and_write(run, fitted, ids)


@shared_task(name="metrics.finish_scoring", **SCORING_TASK)
def finish_scoring(run_id: int) -> str:
    run = ScoringRun.objects.get(pk=run_id)
    if run.status != ScoringRun.Status.RUNNING:
        return run.status
    try:
        with runs.heartbeat(run.pk):
            nightly.finish(run, runs.load_fitted(run_id))
    except Exception as exc:
        runs.fail(run, exc)
        raise
    run.refresh_from_db(fields=["is_current", "as_of"])
    if run.is_current and run.as_of == timezone.localdate():
        digest.send_safely()
    return "succeeded"


@shared_task(name="metrics.scoring_failed")
def scoring_failed(run_id: int) -> None:
    run = ScoringRun.objects.get(pk=run_id)
    if run.status == ScoringRun.Status.RUNNING:
        runs.fail(run, RuntimeError("a scoring chunk failed; see the worker log"))
