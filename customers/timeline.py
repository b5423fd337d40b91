"""One customer's story, newest first: orders, interactions, survey answers and
follow-ups merged into a single list, a page at a time (a cursor on time)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from feedback.models import SurveyResponse

from .models import Customer

PAGE = 20


@dataclass(frozen=True)
class Event:
    at: datetime
    kind: str  # order, interaction, survey, followup
    obj: object


def _sources(customer: Customer):
    return [
        ("order", customer.orders.all(), "occurred_at"),
        ("interaction", customer.interactions.all(), "occurred_at"),
        ("survey", SurveyResponse.objects.filter(customer=customer), "responded_at"),
        ("followup", customer.followups.all(), "created_at"),
    ]


def page(customer: Customer, before: datetime | None, size: int = PAGE):
    """(events, more): up to `size` events older than `before` (None: the newest), plus
    any further events at the same instant as the last one, so a cursor never splits them."""
    events = []
    for kind, queryset, field in _sources(customer):
        if before is not None:
            queryset = queryset.filter(**{f"{field}__lt": before})
        for obj in queryset.order_by(f"-{field}")[: size + 1]:
            events.append(Event(getattr(obj, field), kind, obj))
    events.sort(key=lambda e: e.at, reverse=True)
    cut = min(size, len(events))
    while cut < len(events) and events[cut].at == events[cut - 1].at:
        cut += 1
    return events[:cut], len(events) > cut


def parse_cursor(value: str) -> datetime | None:
    """The "older than" cursor, in UTC: Postgres refuses UTC offsets of 16 hours or
    more that Python accepts ("-22:39"), so the offset never reaches the database."""
    try:
        moment = parse_datetime(value) if value else None
    except ValueError:
        return None
    if moment is None:
        return None
    try:
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        return moment.astimezone(UTC)
    except OverflowError:  # the first or last representable day, shifted off the calendar
        return None
