"""The nightly backup as a Celery task (beat)."""

import logging
from pathlib import Path

from celery import shared_task
from django.conf import settings

from cs_platform import backup

log = logging.getLogger(__name__)


@shared_task(name="customers.nightly_backup")
def nightly_backup() -> str:
    directory = Path(settings.BACKUP_DIR)
    path = backup.create(directory)
    removed = backup.prune(directory, settings.BACKUP_KEEP)
    log.info("backup %s written; %s older removed", path.name, len(removed))
    return path.name
