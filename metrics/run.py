"""One scoring run: lock, read, fit once, score in chunks, switch over atomically
(docs/architecture.md#a-night).

Pages only ever read the current run, and a run becomes current in one transaction
after all its rows are written; a failure anywhere leaves the previous run current
and records the error. The database itself is the lock (a unique constraint allows
one run with status "running"), so two workers or a cron job and beat can never
overlap.
"""

from __future__ import annotations

import contextlib
import logging
import pickle
import threading
import traceback
from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from django.db.models import Q
from django.utils import timezone

from . import scoring, tables
from .models import AccountSettings, CustomerScore, ScoringRun

log = logging.getLogger(__name__)
CHUNK_SIZE = 50_000
KEEP_DAILY_DAYS = 35


class ScoringLocked(RuntimeError):
    """Another scoring run is in progress."""


# What else must change in the switch-over's transaction: the follow-up queue passes
# its refresh (scoring sits below the queue and never imports it).
SwitchOver = Callable[[ScoringRun, pd.DataFrame], object]


def start_run(as_of: date) -> ScoringRun:
    """Create the run row, which takes the lock, after releasing the lock of a run
    whose process died (reap_abandoned)."""
    reap_abandoned()
    try:
        with transaction.atomic():
            return ScoringRun.objects.create(as_of=as_of, heartbeat_at=timezone.now())
    except IntegrityError as exc:
        raise ScoringLocked("another scoring run is in progress") from exc


ABANDONED = "abandoned: no heartbeat for {seconds} s (its worker died)"


def reap_abandoned() -> list[ScoringRun]:
    """Mark failed every run still "running" without a heartbeat for
    SCORING_ABANDONED_SECONDS (killed, out of memory, machine restarted) and remove its
    half-written rows; the previous run stays current. Returns the runs reaped."""
    seconds = settings.SCORING_ABANDONED_SECONDS
    cutoff = timezone.now() - timedelta(seconds=seconds)
    silent = Q(heartbeat_at__lt=cutoff) | Q(heartbeat_at__isnull=True, started_at__lt=cutoff)
    reaped = []
    for run in ScoringRun.objects.filter(silent, status=ScoringRun.Status.RUNNING):
        taken = ScoringRun.objects.filter(silent, pk=run.pk, status=ScoringRun.Status.RUNNING)
        if taken.update(
            status=ScoringRun.Status.FAILED,
            error=ABANDONED.format(seconds=seconds),
            finished_at=timezone.now(),
            fitted_state=None,
        ):
            CustomerScore.objects.filter(run=run).delete()
            log.warning("scoring run %s abandoned: no heartbeat for %s s", run.pk, seconds)
            reaped.append(run)
    return reaped


def beat(run_id: int) -> None:
    """Stamp the heartbeat. Best effort: a beat that cannot be written (the database
    busy for a moment) never fails the run; the next one tries again."""
    try:
        ScoringRun.objects.filter(pk=run_id, status=ScoringRun.Status.RUNNING).update(
            heartbeat_at=timezone.now()
        )
    except DatabaseError:
        log.warning("scoring run %s: heartbeat not written", run_id)


@contextlib.contextmanager
def heartbeat(run_id: int):
    """While the block runs, stamp the run's heartbeat every SCORING_HEARTBEAT_SECONDS
    from a thread of this process, so a long single step (a model fit) keeps it alive
    and a dead process stops it. (Not on an in-memory SQLite test database, which a
    second connection cannot write beside the test's transaction; the stages stamp it
    there.)"""
    beat(run_id)
    if connection.vendor == "sqlite" and connection.is_in_memory_db():
        yield
        return
    stop = threading.Event()

    def keep_beating():
        try:
            while not stop.wait(settings.SCORING_HEARTBEAT_SECONDS):
                beat(run_id)
        finally:
            connections.close_all()

    thread = threading.Thread(target=keep_beating, name=f"heartbeat-{run_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=10)


def run_scoring(
    as_of: date | None = None,
    progress=None,
    chunk_size: int = CHUNK_SIZE,
    on_switch_over: SwitchOver | None = None,
) -> ScoringRun:
    """The whole run in this process. `progress(done, total)` after each chunk;
    `on_switch_over(run, facts)` inside the transaction that makes the run current."""
    as_of = as_of or timezone.localdate()
    run = start_run(as_of)
    try:
        with heartbeat(run.pk):
            fitted = fit(run)
            ids = fitted.facts.index
            for start in range(0, len(ids), chunk_size):
                score_and_write(run, fitted, ids[start : start + chunk_size])
                if progress:
                    progress(min(start + chunk_size, len(ids)), len(ids))
            finalize(run, fitted, on_switch_over)
    except BaseException as exc:  # Ctrl-C too: never leave the lock behind
        fail(run, exc)
        raise
    run.refresh_from_db()
    return run


def fit(run: ScoringRun) -> scoring.Fitted:
    watch = scoring.Stopwatch()
    account = AccountSettings.load()
    data, skipped = scoring.screen(tables.read_all(), timezone.localdate(), account.currency_code)
    data = scoring.as_seen_on(data, run.as_of)
    watch.lap("read")

    def show(timings: dict) -> None:  # each finished stage, for the progress display
        ScoringRun.objects.filter(pk=run.pk).update(
            timings={**watch.timings, **timings}, heartbeat_at=timezone.now()
        )

    show({})
    fitted = scoring.fit_population(
        data, pd.Timestamp(run.as_of), account.scoring_config(), on_lap=show
    )
    fitted.summary["skipped"] = skipped
    ScoringRun.objects.filter(pk=run.pk).update(
        customers=len(fitted.facts), timings={**watch.timings, **fitted.timings}
    )
    return fitted


def score_and_write(run: ScoringRun, fitted: scoring.Fitted, ids) -> int:
    started = timezone.now()
    previous = tables.previous_health(run.as_of, ids)
    rows = scoring.score_chunk(fitted, ids, previous)
    written = tables.write_scores(run, rows)
    run.refresh_from_db(fields=["progress", "timings"])
    timings = run.timings
    timings["score_and_write"] = round(
        timings.get("score_and_write", 0) + (timezone.now() - started).total_seconds(), 3
    )
    ScoringRun.objects.filter(pk=run.pk).update(
        progress=run.progress + written, timings=timings, heartbeat_at=timezone.now()
    )
    return written


def finalize(
    run: ScoringRun, fitted: scoring.Fitted, on_switch_over: SwitchOver | None = None
) -> None:
    """Make the run current (unless it backfills an earlier day), drop same-day
    duplicates and old history, and call `on_switch_over` in the same transaction."""
    columns = ["clv", "value_at_risk", "health", "health_band"]
    scores = pd.DataFrame.from_records(
        CustomerScore.objects.filter(run=run).values_list(*columns), columns=columns
    )
    run.refresh_from_db()
    if run.progress != len(fitted.facts):
        raise RuntimeError(f"only {run.progress} of {len(fitted.facts)} customers were scored")
    summary = {
        **fitted.summary,
        "clv_total": round(float(scores["clv"].sum()), 2) if scores["clv"].notna().any() else None,
        "clv_median": round(float(scores["clv"].median()), 2)
        if scores["clv"].notna().any()
        else None,
        "value_at_risk_total": round(float(scores["value_at_risk"].sum()), 2),
        "health_bands": scores["health_band"].value_counts().to_dict(),
        # The bands these scores were given, so the dashboard colours them the same way.
        "health_thresholds": fitted.config.health_thresholds,
        # Customers per 10-point health bucket (0-9, ..., 90-100): the dashboard's histogram.
        "health_histogram": np.histogram(scores["health"].dropna(), bins=range(0, 101, 10))[
            0
        ].tolist(),
    }
    # A backfilled day older than the current run joins the history; it neither
    # replaces the current scores nor touches today's queue.
    backfill = ScoringRun.objects.filter(is_current=True, as_of__gt=run.as_of).exists()
    with transaction.atomic():
        # A run given up as abandoned (its process was only slow) never becomes current.
        still_running = ScoringRun.objects.select_for_update().filter(
            pk=run.pk, status=ScoringRun.Status.RUNNING
        )
        if not still_running.exists():
            raise RuntimeError(f"scoring run {run.pk} was given up before it finished")
        if not backfill:
            ScoringRun.objects.filter(is_current=True).update(is_current=False)
        ScoringRun.objects.filter(pk=run.pk).update(
            status=ScoringRun.Status.SUCCEEDED,
            is_current=not backfill,
            finished_at=timezone.now(),
            model_metrics=fitted.model_metrics,
            summary=summary,
            fitted_state=None,
        )
        # Re-running a day replaces that day's earlier run: history keeps one per day
        # (failed runs stay, as the record of what went wrong, until pruned).
        ScoringRun.objects.filter(as_of=run.as_of, status=ScoringRun.Status.SUCCEEDED).exclude(
            pk=run.pk
        ).delete()
        prune_history(run.as_of)
        if not backfill and on_switch_over is not None:
            on_switch_over(run, fitted.facts)
    if connection.vendor == "postgresql":
        # Fresh planner statistics and visibility map, or the customer list's index
        # walks and counts go unused after a bulk load until autovacuum gets round to it.
        # (VACUUM cannot run inside a transaction, e.g. in a test.)
        command = "ANALYZE" if connection.in_atomic_block else "VACUUM (ANALYZE)"
        with connection.cursor() as cursor:
            cursor.execute(f"{command} {CustomerScore._meta.db_table}")
    log.info("scoring run %s for %s finished: %s customers", run.pk, run.as_of, run.progress)


def prune_history(as_of: date) -> None:
    """Keep every day of the last five weeks, then the last run of each week."""
    old = ScoringRun.objects.filter(
        as_of__lt=as_of - timedelta(days=KEEP_DAILY_DAYS), is_current=False
    )
    old.exclude(status=ScoringRun.Status.SUCCEEDED).delete()
    old = old.filter(status=ScoringRun.Status.SUCCEEDED)
    keep, seen = [], set()
    for run_id, day in old.order_by("-as_of").values_list("id", "as_of"):
        week = day.isocalendar()[:2]
        if week not in seen:
            seen.add(week)
            keep.append(run_id)
    old.exclude(id__in=keep).delete()


def fail(run: ScoringRun, exc: BaseException) -> None:
    """Record the error and remove the half-written rows; the previous run stays current."""
    log.error("scoring run %s failed: %s", run.pk, exc)
    CustomerScore.objects.filter(run=run).delete()
    ScoringRun.objects.filter(pk=run.pk).update(
        status=ScoringRun.Status.FAILED,
        finished_at=timezone.now(),
        fitted_state=None,
        error="".join(traceback.format_exception_only(type(exc), exc)).strip()[:2000],
    )


def save_fitted(run: ScoringRun, fitted: scoring.Fitted) -> None:
    ScoringRun.objects.filter(pk=run.pk).update(fitted_state=pickle.dumps(fitted, protocol=5))


def load_fitted(run_id: int) -> scoring.Fitted:
    state = ScoringRun.objects.values_list("fitted_state", flat=True).get(pk=run_id)
    if state is None:
        raise RuntimeError(f"scoring run {run_id} has no fitted state")
    return pickle.loads(bytes(state))  # noqa: S301 - written by our own fit stage
