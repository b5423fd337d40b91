"""The nightly refresh: the current run's scores in, the rules' candidates out, the
queue brought in step (docs/architecture.md#a-night)."""

from __future__ import annotations

import pandas as pd

from customers.models import Interaction
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
    inputs = rules.QueueInputs(
        scores, customers, tickets, responses, pd.Timestamp(run.as_of).normalize()
    )
    return actions.open_items(rules.candidates(inputs, settings_row.followup_rules))
