"""Queueing a task when the broker (Redis) may be down: pages never fail because of it.

`enqueue` says whether the task was queued; while the broker is unreachable it is not
tried at every request (cs_platform/outage.py) and the caller falls back, usually to
`run_here` (a thread of this process, as the embedded default does without a broker)."""

import logging
import threading

from django.conf import settings
from django.db import connection
from kombu.exceptions import OperationalError

from .outage import Outage

log = logging.getLogger(__name__)
BROKER = Outage("Redis (task queue)", "background work runs in the web process")


def enqueue(task, *args) -> bool:
    if settings.CELERY_TASK_ALWAYS_EAGER:
        task.delay(*args)
        return True
    if not BROKER.worth_trying():
        return False
    try:
        task.delay(*args)
    except OperationalError as error:
        BROKER.failed(error)
        return False
    BROKER.worked()
    return True


def run_here(task, *args) -> None:
    """The task in a thread of this process, with its own database connection."""

    def run():
        try:
            task.apply(args=args, throw=True)
        except Exception:
            log.exception("%s, run in the web process, failed", task.name)
        finally:
            connection.close()

    threading.Thread(target=run, name=task.name, daemon=True).start()


def enqueue_or_run_here(task, *args) -> None:
    if not enqueue(task, *args):
        run_here(task, *args)
