"""The morning digest and the detractor alert as Celery tasks."""

import logging

from celery import shared_task
from django.utils import timezone

from feedback.models import SurveyResponse
from metrics.models import AccountSettings

from . import digest

log = logging.getLogger(__name__)


@shared_task(name="customers.send_digest")
def send_digest() -> str:
    """Hourly (beat): the digest normally goes right after the nightly run; if that run
    failed or never came, it goes two hours after the nightly hour, with the warning."""
    account = AccountSettings.load()
    now = timezone.localtime(timezone=account.zone)
    if now.hour < account.nightly_hour + 2:
        return "not yet"
    return "sent" if digest.send() else "already sent or nowhere to send"


@shared_task(name="customers.detractor_alert", ignore_result=True)
def detractor_alert(response_id: int) -> bool:
    response = SurveyResponse.objects.filter(pk=response_id).first()
    if response is None:
        return False
    try:
        return digest.detractor_alert(response)
    except Exception:  # the answer is stored either way; the digest lists it tomorrow
        log.exception("the detractor alert for answer %s could not be sent", response_id)
        return False
