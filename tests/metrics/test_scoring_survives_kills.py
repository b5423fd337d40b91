"""A scoring run that dies is noticed within seconds and started afresh (CI services
stage: Postgres, Redis, a real prefork Celery worker). The pool child doing the run is
killed with SIGKILL, then the whole worker; each time the previous scores stay current
and a fresh run completes well within five minutes. The heartbeat and the abandonment
limit are shortened (1 s, 6 s) so the test does not wait three minutes."""

import os
import signal
import subprocess
import time
from datetime import timedelta

import pytest

from customers.followups.tasks import start_scoring, watch_scoring
from metrics import run as runs
from metrics.models import ScoringRun
from tests.scoring_data import AS_OF, load_into_db, shop

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]
DAY = AS_OF.date()
FAST = {"SCORING_HEARTBEAT_SECONDS": "1", "SCORING_ABANDONED_SECONDS": "6"}


def children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(child) for child in found.split()]


def running_run(after: int, timeout: float = 120) -> ScoringRun:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        run = ScoringRun.objects.filter(pk__gt=after, status="running").first()
        if run is not None and run.heartbeat_at is not None:
            return run
        time.sleep(0.05)
    pytest.fail("no scoring run started")


def fresh_success(after: int, worker, timeout: float = 300) -> tuple[ScoringRun, float]:
    """Beat's every-minute watchdog, every 2 s here, until a newer run succeeds."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        watch_scoring.delay()
        done = ScoringRun.objects.filter(pk__gt=after, status="succeeded").first()
        if done is not None:
            return done, time.monotonic() - started
        assert worker.poll() is None, worker.stdout.read()
        time.sleep(2)
    pytest.fail("no fresh run completed within five minutes")


def test_a_killed_pool_child_and_a_killed_worker_each_get_a_fresh_run(real_workers):
    load_into_db(shop(customers=1500, seed=11))
    before = runs.run_scoring(as_of=DAY - timedelta(days=1))
    worker = real_workers("scorer", pool="prefork", **FAST)

    # 1. The pool child dies mid-run; the worker lives on and forks a new child.
    start_scoring.delay(as_of=DAY.isoformat())
    killed = running_run(after=before.pk)
    (child,) = children(worker.pid)
    os.kill(child, signal.SIGKILL)
    assert ScoringRun.objects.current() == before  # nothing half-done shows
    fresh, seconds_after_child = fresh_success(after=killed.pk, worker=worker)
    killed.refresh_from_db()
    assert killed.status == "failed" and killed.error.startswith("abandoned"), killed.error
    assert fresh.is_current and fresh.as_of == DAY

    # 2. The whole worker dies mid-run; a new worker (as a supervisor would start) takes over.
    start_scoring.delay(as_of=DAY.isoformat())
    killed = running_run(after=fresh.pk)
    for pid in [*children(worker.pid), worker.pid]:
        os.kill(pid, signal.SIGKILL)
    worker.wait(timeout=10)
    assert ScoringRun.objects.current() == fresh
    replacement = real_workers("scorer-2", pool="prefork", **FAST)
    again, seconds_after_worker = fresh_success(after=killed.pk, worker=replacement)
    killed.refresh_from_db()
    assert killed.status == "failed" and killed.error.startswith("abandoned"), killed.error
    assert again.is_current
    print(
        f"fresh run done {seconds_after_child:.0f} s after the child was killed, "
        f"{seconds_after_worker:.0f} s after the worker was killed"
    )
