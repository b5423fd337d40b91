"""The playbook runner as a Celery task (beat, every 15 minutes)."""

import logging

from celery import shared_task

from . import runner

log = logging.getLogger(__name__)


@shared_task(name="customers.run_playbooks", acks_late=True)
def run_playbooks() -> dict:
    """Enrol and do every due step. Safe to run twice at once: steps are claimed."""
    counts = dict(runner.run())
    log.info("playbooks: %s", counts)
    return counts
