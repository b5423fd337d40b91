"""Score, then refresh the queue, in the run's switch-over transaction: what the
nightly task, `manage.py score` and "Run scoring now" start. It sits above both
scoring and the queue (docs/architecture.md#a-night)."""

from __future__ import annotations

from datetime import date

from metrics import run as runs
from metrics.models import ScoringRun
from metrics.scoring import Fitted

from .refresh import refresh_queue


def score_and_refresh(
    as_of: date | None = None, progress=None, chunk_size: int = runs.CHUNK_SIZE
) -> ScoringRun:
    """The whole run in this process (see metrics.run.run_scoring)."""
    return runs.run_scoring(as_of, progress, chunk_size, on_switch_over=refresh_queue)


def finish(run: ScoringRun, fitted: Fitted) -> None:
    """The last step of a run scored in parallel chunks."""
    runs.finalize(run, fitted, on_switch_over=refresh_queue)
