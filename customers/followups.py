"""Keep the follow-up queue in step with the current scoring run (I/O side)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pandas as pd
from django.utils import timezone

from metrics import health as health_metrics

from . import followup_rules
from .models import FollowUp, FollowUpRule, FollowUpStatus, Interaction

COOLDOWN_DAYS = 14  # a rule does not reopen an item the owner closed this recently
NUMERIC_SCORES = ("clv", "value_at_risk", "churn_probability", "health", "health_change_7d")


def refresh_queue(run, facts: pd.DataFrame) -> dict:
    """Create or update one open item per customer and rule; never reopen done items.
    `facts`: the run's per-customer facts (days_since_contact, tenure_days,
    subscription_ends_on), so the tables are not read a second time."""
    from metrics import io
    from metrics.models import CustomerScore, ScoringSettings

    settings_row = ScoringSettings.load()
    columns = [
        "customer_id",
        "clv",
        "value_at_risk",
        "churn_probability",
        "health",
        "health_band",
        "health_change_7d",
    ]
    scores = pd.DataFrame.from_records(
        CustomerScore.objects.filter(run=run).values_list(*columns), columns=columns
    ).set_index("customer_id")
    scores = scores.astype(dict.fromkeys(NUMERIC_SCORES, float))
    scores = scores.join(facts[["days_since_contact", "tenure_days"]].astype(float))
    previous = scores["health"] - scores["health_change_7d"]
    scores["previous_band"] = health_metrics.band(
        previous.fillna(0), settings_row.health_thresholds
    ).where(previous.notna(), "")
    customers = facts[["subscription_ends_on"]]
    tickets = pd.DataFrame.from_records(
        Interaction.objects.filter(kind="ticket", resolved_at__isnull=True).values_list(
            "customer_id", "opened_at", "subject"
        ),
        columns=["customer_id", "opened_at", "subject"],
    )
    tickets["opened_at"] = (
        io.local_naive(tickets["opened_at"]) if len(tickets) else pd.Series(dtype="datetime64[ns]")
    )
    responses = io.read_survey_responses()
    rules = {name: settings_row.rule(name) for name in settings_row.followup_rules}
    found = followup_rules.candidates(scores, customers, tickets, responses, rules, run.as_of)
    return sync(found)


def sync(found: pd.DataFrame) -> dict:
    """Upsert candidate items. Open or snoozed items are updated in place (a snooze
    stands); items done within the cooldown are not recreated."""
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
