"""The only ways a follow-up item changes: opened by a rule, completed, snoozed,
reopened (views, the API and the nightly refresh call these)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pandas as pd
from django.db import transaction
from django.utils import timezone

from customers.models import (
    Customer,
    Direction,
    FollowUp,
    FollowUpRule,
    FollowUpStatus,
    Interaction,
    InteractionKind,
    Urgency,
)
from metrics.models import CustomerScore

COOLDOWN_DAYS = 14  # a rule does not reopen an item the owner closed this recently


def open_items(found: pd.DataFrame) -> dict:
    """Bring the rules' items in step with their candidates (rules.candidates), so the
    queue never piles up: open or snoozed items are updated in place (a snooze stands);
    an open item that no rule finds any more is withdrawn; items done within the
    cooldown are not recreated. The owner's own tasks are never touched."""
    rules = list(found["rule"].unique()) if len(found) else []
    existing = {
        (f.customer_id, f.rule): f
        for f in FollowUp.objects.not_done().exclude(rule=FollowUpRule.MANUAL)
    }
    recently_done = set(
        FollowUp.objects.filter(
            status=FollowUpStatus.DONE,
            rule__in=rules,
            completed_at__gte=timezone.now() - timedelta(days=COOLDOWN_DAYS),
        ).values_list("customer_id", "rule")
    )
    create, update, found_keys = [], [], set()
    for row in found.itertuples(index=False):
        key = (int(row.customer_id), row.rule)
        found_keys.add(key)
        value, urgency = Decimal(str(row.value_at_stake)), int(row.priority)
        item = existing.get(key)
        if item is not None:
            if (item.reason, item.value_at_stake, item.priority) != (row.reason, value, urgency):
                item.reason, item.value_at_stake, item.priority = row.reason, value, urgency
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
                    priority=urgency,
                    due=row.due.date(),
                )
            )
    withdrawn = [
        item.pk
        for key, item in existing.items()
        if key not in found_keys and item.status == FollowUpStatus.OPEN
    ]
    FollowUp.objects.filter(pk__in=withdrawn).delete()
    FollowUp.objects.bulk_create(create, batch_size=2000)
    FollowUp.objects.bulk_update(
        update,
        ["reason", "reason_args", "value_at_stake", "priority", "suggested_action"],
        batch_size=2000,
    )
    return {"created": len(create), "updated": len(update), "withdrawn": len(withdrawn)}


def add_followup(customer: Customer, reason: str, due: date, note: str = "") -> FollowUp:
    """The owner's own follow-up or task: urgent like a red turn, worth the customer's
    current CLV, in today's list from its due day on."""
    clv = (
        CustomerScore.objects.filter(customer=customer, run__is_current=True)
        .values_list("clv", flat=True)
        .first()
    )
    return FollowUp.objects.create(
        customer=customer,
        rule=FollowUpRule.MANUAL,
        reason=reason,
        suggested_action=note,
        priority=Urgency.SOON,
        value_at_stake=Decimal(str(round(max(clv or 0, 0), 2))),
        due=due,
    )


@transaction.atomic
def complete_followup(item: FollowUp, note: str = "", log: bool = True) -> Interaction | None:
    """Mark the item done; what was done is logged on the customer's timeline, so the
    "no contact" rule and the health score see the contact (`log=False`: the caller
    logged it already, e.g. the e-mail it sent)."""
    now = timezone.now()
    item.status, item.completed_at, item.outcome = FollowUpStatus.DONE, now, note
    item.save(update_fields=["status", "completed_at", "outcome", "updated_at"])
    if not log:
        return None
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
