"""Celery tasks for surveys: thin wrappers around feedback.sending."""

from celery import shared_task
from django.db import transaction
from django.utils import timezone

from cs_platform.broker import enqueue_or_run_here
from metrics.models import AccountSettings

from .models import SurveySend
from .sending import Sender, send_reminders, send_to


def sender() -> Sender:
    """The owner's business and sender settings, for survey e-mails."""
    account = AccountSettings.cached()
    return Sender(account.business_name, account.from_address, account.reply_to)


def start_send(survey, audience: str, eligible: list[int], skipped) -> SurveySend:
    """Record a send to the eligible customers (sending.eligibility) with its skip
    counts, and queue the e-mails once it is committed."""
    send = SurveySend.objects.create(survey=survey, audience=audience, skipped=dict(skipped))
    transaction.on_commit(lambda: enqueue_or_run_here(send_survey, send.pk, eligible))
    return send


@shared_task(name="feedback.send_survey", acks_late=True)
def send_survey(send_id: int, customer_ids: list[int]) -> int:
    """E-mail the eligible customers of a SurveySend. Safe to run twice: customers
    already invited by this send are skipped."""
    send = SurveySend.objects.select_related("survey").get(pk=send_id)
    sent = send_to(send, customer_ids, sender())
    SurveySend.objects.filter(pk=send_id).update(finished_at=timezone.now())
    return sent


@shared_task(name="feedback.send_reminders")
def send_survey_reminders() -> int:
    """Hourly (beat): one reminder to each invitee who has not answered in time."""
    return send_reminders(sender())
