"""Today's follow-ups: the head of the queue, as many as the owner's daily capacity
leaves after what was done today; the rest waits as "later". Someone unhappy right now
(Urgency.NOW) is always today's, whatever the capacity. The navigation badge, the
dashboard's "Contact today" and the queue page all read it here, so they agree."""

from __future__ import annotations

from datetime import datetime, time
from typing import NamedTuple

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from customers.models import FollowUp, FollowUpStatus, Urgency, open_on
from metrics.models import AccountSettings


def _counts(today) -> dict:
    start = timezone.make_aware(datetime.combine(today, time.min))
    return FollowUp.objects.aggregate(
        done=Count("pk", filter=Q(status=FollowUpStatus.DONE, completed_at__gte=start)),
        now=Count("pk", filter=open_on(today) & Q(priority=Urgency.NOW)),
        open=Count("pk", filter=open_on(today)),
    )


def _room(counts: dict) -> int:
    """How many items today's list holds: the capacity left after today's done items,
    and never fewer than the open "unhappy now" items."""
    left = AccountSettings.cached().daily_capacity - counts["done"]
    return max(left, counts["now"], 0)


def todays_ids(today=None) -> list[int]:
    """The items of today's list, in queue order."""
    today = today or timezone.localdate()
    queue = FollowUp.objects.open_for_today(today)
    return list(queue.values_list("pk", flat=True)[: _room(_counts(today))])


def count(today=None) -> tuple[int, int]:
    """How many items today's list shows, and how many wait for later (one query: the
    badge is on every owner page)."""
    counts = _counts(today or timezone.localdate())
    shown = min(_room(counts), counts["open"])
    return shown, counts["open"] - shown


class Split(NamedTuple):
    todays: QuerySet
    later: QuerySet
    shown: int  # how many today's list holds (the badge)
    waiting: int  # how many wait for later


def split(today=None) -> Split:
    """Today's items and the later ones, both in queue order and with their customer,
    and their counts (from the same one count query)."""
    today = today or timezone.localdate()
    counts = _counts(today)
    items = FollowUp.objects.open_for_today(today).select_related("customer")
    ids = list(items.values_list("pk", flat=True)[: _room(counts)])
    return Split(
        items.filter(pk__in=ids), items.exclude(pk__in=ids), len(ids), counts["open"] - len(ids)
    )
