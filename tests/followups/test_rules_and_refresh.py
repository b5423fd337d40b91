"""The follow-up queue: rules, deduplication, snoozes and done items."""

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from customers.followups import rules
from customers.followups.actions import open_items
from customers.models import FollowUp, FollowUpRule, Urgency
from tests.conftest import make_customer

TODAY = pd.Timestamp("2026-06-30")


def scores(**columns):
    base = {
        "clv": [100.0],
        "value_at_risk": [10.0],
        "churn_probability": [0.1],
        "health": [80.0],
        "health_band": ["green"],
        "previous_band": ["green"],
        "health_change_7d": [0.0],
        "days_since_contact": [5.0],
        "tenure_days": [200.0],
    }
    base.update(columns)
    n = max(len(v) for v in base.values())
    base = {k: (v * n if len(v) == 1 else v) for k, v in base.items()}
    return pd.DataFrame(base, index=pd.Index(range(1, n + 1), name="customer_id"))


def run_rules(frame, customers=None, tickets=None, responses=None, payments=None, **rule_overrides):
    customers = (
        customers
        if customers is not None
        else pd.DataFrame(
            {"subscription_ends_on": pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")}
        )
    )
    tickets = (
        tickets
        if tickets is not None
        else pd.DataFrame(columns=["customer_id", "opened_at", "subject"])
    )
    responses = (
        responses
        if responses is not None
        else pd.DataFrame(columns=["customer_id", "kind", "score", "responded_at", "comment"])
    )
    inputs = rules.QueueInputs(frame, customers, tickets, responses, TODAY)
    if payments is not None:
        inputs = rules.QueueInputs(frame, customers, tickets, responses, TODAY, payments)
    return rules.candidates(inputs, rule_overrides)


def test_a_failed_payment_not_paid_since_needs_attention():
    day = pd.Timedelta(days=1)
    payments = pd.DataFrame(
        {
            "customer_id": [1, 2, 3],
            "occurred_at": [TODAY - 3 * day, TODAY - 3 * day, TODAY - 40 * day],
            "subject": ["Card declined", "Card declined", "Expired card"],
            "last_paid": [TODAY - 30 * day, TODAY - day, pd.NaT],
        }
    )
    found = run_rules(scores(clv=[50.0, 60.0, 70.0], value_at_risk=[0.0]), payments=payments)
    failed = found[found["rule"] == "payment_failed"]
    assert failed["customer_id"].tolist() == [1]  # 2 paid since; 3 is older than 14 days
    item = failed.iloc[0]
    day_failed = f"{TODAY - 3 * day:%Y-%m-%d}"
    assert item["reason"] == f"Payment failed on {day_failed}: Card declined"
    assert item["priority"] == Urgency.SOON and item["value_at_stake"] == 50.0


def test_a_healthy_recent_customer_needs_nothing():
    assert run_rules(scores(value_at_risk=[0.0])).empty


def test_health_turning_red_or_falling_20_points_in_a_week():
    found = run_rules(
        scores(
            health=[35.0, 60.0, 75.0],
            health_band=["red", "yellow", "green"],
            previous_band=["yellow", "green", "green"],
            health_change_7d=[-5.0, -25.0, -3.0],
            value_at_risk=[0.0, 0.0, 0.0],
        )
    )
    drop = found[found["rule"] == "health_drop"]
    assert drop["customer_id"].tolist() == [1, 2]
    assert drop.set_index("customer_id").loc[2, "reason"] == "Health fell to 60 (-25 in a week)"


def test_high_value_at_risk_takes_the_top_share_above_a_minimum():
    values = [float(v) for v in range(1, 101)]
    found = run_rules(
        scores(value_at_risk=values, clv=[1000.0]),
        value_at_risk={"top_share": 0.05, "min_value": 50},
    )
    risky = found[found["rule"] == "value_at_risk"].sort_values("value_at_stake", ascending=False)
    assert risky["customer_id"].tolist() == [100, 99, 98, 97, 96]
    assert risky.iloc[0]["reason"].startswith("100 of future value at risk")


def test_top_customers_without_contact():
    found = run_rules(
        scores(
            clv=[5000.0, 4000.0, 10.0] + [1.0] * 17,
            days_since_contact=[90.0, 10.0] + [np.nan] * 18,
            value_at_risk=[0.0],
        )
    )
    silent = found[found["rule"] == "no_contact"]
    assert silent["customer_id"].tolist() == [1]
    assert silent.iloc[0]["reason"] == "Top customer (CLV 5,000) with no contact for 90 days"


def test_renewals_onboarding_and_old_tickets():
    frame = scores(tenure_days=[7.0, 31.0, 200.0], value_at_risk=[0.0])
    customers = pd.DataFrame(
        {
            "subscription_ends_on": [
                TODAY + pd.Timedelta(days=10),
                pd.NaT,
                TODAY + pd.Timedelta(days=90),
            ]
        },
        index=frame.index,
    )
    tickets = pd.DataFrame(
        {
            "customer_id": [3, 3, 2],
            "opened_at": [
                TODAY - pd.Timedelta(days=5),
                TODAY - pd.Timedelta(days=9),
                TODAY - pd.Timedelta(days=1),
            ],
            "subject": ["Crash", "Invoice", "New"],
        }
    )
    found = run_rules(frame, customers=customers, tickets=tickets)
    by_rule = {rule: sorted(group["customer_id"]) for rule, group in found.groupby("rule")}
    assert by_rule["renewal"] == [1]
    assert by_rule["onboarding"] == [1, 2]
    assert by_rule["ticket_open"] == [3]
    assert (
        found[found["rule"] == "ticket_open"].iloc[0]["reason"]
        == "Support ticket open for 9 days: Invoice"
    )


def test_detractors_quote_their_comment_and_promoters_get_a_review_ask():
    responses = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "kind": ["nps", "nps"],
            "score": [3, 10],
            "responded_at": [TODAY - pd.Timedelta(days=1)] * 2,
            "comment": ["Support was slow", ""],
        }
    )
    found = run_rules(scores(clv=[100.0, 200.0], value_at_risk=[0.0]), responses=responses)
    detractor = found[found["rule"] == "detractor"].iloc[0]
    assert (
        detractor["customer_id"] == 1
        and detractor["reason"] == 'Answered NPS 3: "Support was slow"'
    )
    assert detractor["due"] == TODAY + pd.Timedelta(days=2) and detractor["priority"] == 1
    assert found[found["rule"] == "promoter"]["customer_id"].tolist() == [2]


def test_an_unhappy_answer_is_urgent_while_fresh_then_needs_attention():
    responses = pd.DataFrame(
        {
            "customer_id": [1, 2],
            "kind": ["csat", "nps"],
            "score": [1, 2],
            "responded_at": [TODAY - pd.Timedelta(days=1), TODAY - pd.Timedelta(days=6)],
            "comment": ["", ""],
        }
    )
    found = run_rules(scores(clv=[10.0, 900.0], value_at_risk=[0.0]), responses=responses)
    detractors = found[found["rule"] == "detractor"].set_index("customer_id")["priority"]
    assert detractors.to_dict() == {1: Urgency.NOW, 2: Urgency.SOON}


def test_each_rule_brings_at_most_max_items():
    values = [float(v) for v in range(100, 200)]
    found = run_rules(
        scores(value_at_risk=values),
        value_at_risk={"top_share": 1.0, "min_value": 0, "max_items": 7},
    )
    assert (found["rule"] == "value_at_risk").sum() == 7
    assert found[found["rule"] == "value_at_risk"]["value_at_stake"].min() == 193


def test_disabled_rules_produce_nothing():
    assert run_rules(
        scores(health_band=["red"], previous_band=["green"], value_at_risk=[0.0]),
        health_drop={"enabled": False},
    ).empty


def candidate(customer, rule="value_at_risk", reason="At risk", value=100.0):
    return pd.DataFrame(
        [
            {
                "customer_id": customer.pk,
                "rule": rule,
                "reason": reason,
                "reason_args": {"t": reason},
                "suggested_action": "Call",
                "value_at_stake": value,
                "priority": 1,
                "due": TODAY,
            }
        ]
    )


@pytest.mark.django_db
def test_an_open_item_is_updated_not_duplicated():
    customer = make_customer()
    assert open_items(candidate(customer)) == {"created": 1, "updated": 0, "withdrawn": 0}
    assert open_items(candidate(customer, reason="More at risk", value=250.0)) == {
        "created": 0,
        "updated": 1,
        "withdrawn": 0,
    }
    item = FollowUp.objects.get()
    assert (item.reason, float(item.value_at_stake)) == ("More at risk", 250.0)
    assert open_items(candidate(customer, reason="More at risk", value=250.0)) == {
        "created": 0,
        "updated": 0,
        "withdrawn": 0,
    }


@pytest.mark.django_db
def test_items_no_rule_finds_any_more_are_withdrawn_unless_the_owner_touched_them():
    gone, snoozed, stays = make_customer(), make_customer(), make_customer()
    open_items(pd.concat([candidate(gone), candidate(snoozed), candidate(stays)]))
    FollowUp.objects.filter(customer=snoozed).update(
        status="snoozed", snoozed_until=timezone.localdate() + timedelta(days=3)
    )
    own = FollowUp.objects.create(customer=gone, rule="manual", reason="Send the invoice")
    assert open_items(candidate(stays)) == {"created": 0, "updated": 0, "withdrawn": 1}
    assert set(FollowUp.objects.values_list("customer_id", "rule")) == {
        (snoozed.pk, "value_at_risk"),
        (stays.pk, "value_at_risk"),
        (gone.pk, "manual"),
    }
    assert FollowUp.objects.get(pk=own.pk).status == "open"
    assert open_items(candidate(stays, rule="renewal"))["withdrawn"] == 1  # one rule ends


@pytest.mark.django_db
def test_a_snoozed_item_keeps_its_snooze_and_reappears_when_due():
    customer = make_customer()
    open_items(candidate(customer))
    today = timezone.localdate()
    FollowUp.objects.update(status="snoozed", snoozed_until=today + timedelta(days=3))
    open_items(candidate(customer, reason="Still at risk"))
    item = FollowUp.objects.get()
    assert item.status == "snoozed" and item.reason == "Still at risk"
    assert not FollowUp.objects.open_for_today(today).exists()
    assert list(FollowUp.objects.open_for_today(today + timedelta(days=3))) == [item]


@pytest.mark.django_db
def test_done_items_stay_done_and_are_not_recreated_at_once():
    customer = make_customer()
    open_items(candidate(customer))
    FollowUp.objects.update(status="done", completed_at=timezone.now())
    assert open_items(candidate(customer)) == {"created": 0, "updated": 0, "withdrawn": 0}
    FollowUp.objects.update(completed_at=timezone.now() - timedelta(days=30))
    assert open_items(candidate(customer))["created"] == 1
    assert FollowUp.objects.filter(status="done").count() == 1


def test_every_rule_of_the_registry_has_a_label_and_every_label_a_rule():
    assert set(rules.REGISTRY) == set(FollowUpRule.values) - {FollowUpRule.MANUAL}
