"""Who enters a playbook now: the customers its trigger finds, less those already in it
(or in it recently, for a playbook one may enter again)."""

from __future__ import annotations

from datetime import datetime, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from customers.listing import segment_customers
from customers.models import (
    Customer,
    Enrolment,
    EnrolmentState,
    FollowUp,
    Interaction,
    InteractionKind,
    Playbook,
    PlaybookTrigger,
)
from metrics.models import CustomerScore, ScoringRun
from segmentation.models import SavedSegment

# A trigger that fired while the runner was down still counts this many days later.
GRACE_DAYS = 2
RUNNING = [EnrolmentState.ACTIVE, EnrolmentState.REVIEW]


def _days(value: str) -> int:
    return int(value) if value.strip().isdigit() else 0


def _turned_red() -> QuerySet:
    current = ScoringRun.objects.current()
    if current is None:
        return Customer.objects.none()
    previous = (
        ScoringRun.objects.filter(status=ScoringRun.Status.SUCCEEDED, as_of__lt=current.as_of)
        .order_by("-as_of")
        .first()
    )
    red_now = CustomerScore.objects.filter(run=current, health_band="red")
    if previous is None:  # no earlier run to compare with: nobody has "turned"
        return Customer.objects.none()
    red_before = CustomerScore.objects.filter(run=previous, health_band="red")
    return Customer.objects.filter(pk__in=red_now.values("customer_id")).exclude(
        pk__in=red_before.values("customer_id")
    )


def matching(playbook: Playbook, now: datetime) -> QuerySet:
    """The customers the trigger finds now."""
    kind, value = playbook.trigger, playbook.trigger_value
    today = timezone.localdate(now)
    recent = now - timedelta(days=GRACE_DAYS)
    if kind == PlaybookTrigger.RULE:
        fired = FollowUp.objects.not_done().filter(rule=value)
        return Customer.objects.filter(pk__in=fired.values("customer_id"))
    if kind == PlaybookTrigger.SEGMENT:
        segment = SavedSegment.objects.filter(pk=_days(value)).first()
        return segment_customers(segment) if segment else Customer.objects.none()
    if kind == PlaybookTrigger.SIGNUP:
        day = today - timedelta(days=_days(value))
        return Customer.objects.filter(
            signup_date__gt=day - timedelta(days=GRACE_DAYS), signup_date__lte=day
        )
    if kind == PlaybookTrigger.TICKET_RESOLVED:
        resolved = Interaction.objects.filter(
            kind=InteractionKind.TICKET, resolved_at__gte=recent, resolved_at__lte=now
        )
        return Customer.objects.filter(pk__in=resolved.values("customer_id"))
    if kind == PlaybookTrigger.CANCELLED:
        return Customer.objects.filter(churned_at__gte=recent, churned_at__lte=now)
    if kind == PlaybookTrigger.HEALTH_RED:
        return _turned_red()
    if kind == PlaybookTrigger.ACTIVE:
        active = CustomerScore.objects.filter(run__is_current=True, behaviour="active")
        return Customer.objects.filter(pk__in=active.values("customer_id"))
    return Customer.objects.none()


def entering(playbook: Playbook, now: datetime | None = None) -> QuerySet:
    """Who would enter now: found by the trigger, not in the playbook already, and (a
    once-only playbook) never in it, or (reenter_days) not within that many days."""
    now = now or timezone.now()
    before = Enrolment.objects.filter(playbook=playbook)
    if playbook.reenter_days is not None:
        before = before.filter(entered_at__gte=now - timedelta(days=playbook.reenter_days))
    running = Enrolment.objects.filter(playbook=playbook, state__in=RUNNING)
    return (
        matching(playbook, now)
        .exclude(pk__in=before.values("customer_id"))
        .exclude(pk__in=running.values("customer_id"))
    )
