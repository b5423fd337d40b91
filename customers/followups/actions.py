"""The only ways a follow-up item changes: opened by a rule, completed, snoozed,
reopened (views, the API and the nightly refresh call these)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from django.db import transaction
from django.utils import timezone

from customers.models import (
    Direction,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    Interaction,
    InteractionKind,
)

COOLDOWN_DAYS = 14  # a rule does not reopen an item the owner closed this recently


def open_items(found: pd.DataFrame) -> dict:
    """Upsert the rules' candidates (rules.candidates). Open or snoozed items are
    updated in place (a snooze stands); items done within the cooldown are not
    recreated."""
    rules = list(found["rule"].unique()) if len(found) else []
    existing = {
        (f.customer_id, f.rule): f
        for f in FollowUp.objects.not_done()
        .filter(rule__in=rules)
        .exclude(rule=FollowUpRule.MANUAL)
    }
    recently_done = set(
        FollowUp.objects.filter(
            status=FollowUpStatus.DONE,
            rule__in=rules,
            completed_at__gte=timezone.now() - timedelta(days=COOLDOWN_DAYS),
        ).values_list("customer_id", "rule")
    )
    create, update = [], []
    for row in found.itertuples(index=False):
        key = (int(row.customer_id), row.rule)
        value = Decimal(str(row.value_at_stake))
        item = existing.get(key)
        if item is not None:
            if (item.reason, item.value_at_stake, item.priority) != (
                row.reason,
                value,
                row.priority,
            ):
                item.reason, item.value_at_stake, item.priority = row.reason, value, row.priority
                item.reason_args, item.suggested_action = row.reason_args, row.suggested_action
                update.append(item)
        elif key not in recently_done:
            create.append(
                FollowUp(
                    customer_id=key[0],
                    rule=row.rule,
                    reason=row.reason,
                    reason_args=row.reason_args,
                    suggested_action=row.suggested_action,
                    value_at_stake=value,
                    priority=row.priority,
                    due=row.due.date(),
                )
            )
    FollowUp.objects.bulk_create(create, batch_size=2000)
    FollowUp.objects.bulk_update(
        update,
        ["reason", "reason_args", "value_at_stake", "priority", "suggested_action"],
        batch_size=2000,
    )
    return {"created": len(create), "updated": len(update)}


@transaction.atomic
def complete_followup(item: FollowUp, note: str = "") -> Interaction:
    """Mark the item done; what was done is logged on the customer's timeline, so the
    "no contact" rule and the health score see the contact."""
    now = timezone.now()
    item.status, item.completed_at, item.outcome = FollowUpStatus.DONE, now, note
    item.save(update_fields=["status", "completed_at", "outcome", "updated_at"])
    return Interaction.objects.create(
        customer_id=item.customer_id,
        kind=InteractionKind.NOTE,
        direction=Direction.OUTBOUND,
        occurred_at=now,
        subject=f"Follow-up done: {item.get_rule_display()}"[:300],
        body=note,
    )


def snooze_followup(item: FollowUp, until: date) -> None:
    item.status, item.snoozed_until = FollowUpStatus.SNOOZED, until
    item.save(update_fields=["status", "snoozed_until", "updated_at"])


def reopen_followup(item: FollowUp) -> None:
    """A snoozed item back in the queue now ("Undo" after a snooze). A done item stays
    done: its contact is on the timeline, and a rule opens a new item when needed."""
    if item.status != FollowUpStatus.SNOOZED:
        return
    item.status, item.snoozed_until = FollowUpStatus.OPEN, None
    item.save(update_fields=["status", "snoozed_until", "updated_at"])
