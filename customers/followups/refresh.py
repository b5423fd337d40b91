"""The nightly refresh: the current run's scores in, the rules' candidates out, the
queue brought in step (docs/architecture.md#a-night)."""

from __future__ import annotations

import pandas as pd
from django.db.models import Max
from django.utils import timezone

from customers.models import Interaction, InteractionKind, Order
from metrics import health as health_metrics
from metrics import tables
from metrics.models import AccountSettings, CustomerScore, ScoringRun

from . import actions, rules

NUMERIC_SCORES = ("clv", "value_at_risk", "churn_probability", "health", "health_change_7d")


def refresh_queue(run: ScoringRun, facts: pd.DataFrame) -> dict:
    """Create or update one open item per customer and rule; never reopen done items.
    `facts`: the run's per-customer facts (days_since_contact, tenure_days,
    subscription_ends_on), so the tables are not read a second time."""
    settings_row = AccountSettings.load()
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
        tables.local_naive(tickets["opened_at"])
        if len(tickets)
        else pd.Series(dtype="datetime64[ns]")
    )
    responses = tables.read_survey_responses()
    today = pd.Timestamp(run.as_of).normalize()
    inputs = rules.QueueInputs(
        scores, customers, tickets, responses, today, _failed_payments(today)
    )
    return actions.open_items(rules.candidates(inputs, settings_row.followup_rules))


def _failed_payments(today: pd.Timestamp, days: int = 60) -> pd.DataFrame:
    """Failed payments of the last `days` of customers who have not cancelled, with
    each customer's latest payment or purchase (the rule keeps those not paid since)."""
    columns = ["customer_id", "occurred_at", "subject"]
    failed = pd.DataFrame.from_records(
        Interaction.objects.filter(
            kind=InteractionKind.PAYMENT_FAILED,
            customer__churned_at__isnull=True,
            occurred_at__gte=timezone.make_aware((today - pd.Timedelta(days=days)).to_pydatetime()),
        ).values_list(*columns),
        columns=columns,
    )
    if not len(failed):
        return failed.assign(last_paid=pd.Series(dtype="datetime64[ns]"))
    paid = dict(
        Order.objects.filter(customer_id__in=failed["customer_id"].unique())
        .exclude(kind="refund")
        .values("customer_id")
        .annotate(last=Max("occurred_at"))
        .values_list("customer_id", "last")
    )
    failed["occurred_at"] = tables.local_naive(failed["occurred_at"])
    last_paid = pd.Series(failed["customer_id"].map(paid), dtype="datetime64[ns, UTC]")
    failed["last_paid"] = tables.local_naive(last_paid)
    return failed
