"""A survey answer opens its follow-up through the same rule and the same Settings as
the nightly run: its switch, its due days, its reason and action."""

from datetime import timedelta

import pandas as pd
import pytest
from django.utils import timezone

from customers.followups import rules
from customers.models import FollowUp
from feedback.models import SurveyResponse
from metrics.models import AccountSettings
from tests.conftest import HTMX

pytestmark = pytest.mark.django_db


def answer(client, invite, score, comment, capture):
    invitation, token = invite()
    with capture(execute=True):
        assert (
            client.post(f"/s/{token}/", {"score": str(score), "comment": comment}).status_code
            == 200
        )
    return invitation.customer


def set_rule(name, **values):
    account = AccountSettings.load()
    account.followup_rules = {**account.followup_rules, name: values}
    account.save()


def test_a_detractor_rule_switched_off_in_settings_opens_nothing(
    client, invite, django_capture_on_commit_callbacks
):
    set_rule("detractor", enabled=False)
    answer(client, invite, 2, "Too slow", django_capture_on_commit_callbacks)
    assert SurveyResponse.objects.count() == 1 and not FollowUp.objects.exists()


def test_the_due_days_set_for_detractors_are_the_answers_due_days(
    client, invite, django_capture_on_commit_callbacks
):
    set_rule("detractor", enabled=True, due_days=5, lookback_days=14)
    customer = answer(client, invite, 3, "", django_capture_on_commit_callbacks)
    item = FollowUp.objects.get(customer=customer)
    assert item.due == timezone.localdate() + timedelta(days=5)


def test_a_promoter_rule_switched_off_leaves_promoters_alone(
    client, invite, django_capture_on_commit_callbacks
):
    set_rule("promoter", enabled=False)
    answer(client, invite, 10, "Great", django_capture_on_commit_callbacks)
    assert not FollowUp.objects.exists()


def test_the_answer_and_the_nightly_rule_write_the_same_reason_and_action(
    client, invite, django_capture_on_commit_callbacks
):
    comment = "The export keeps failing and nobody answers my tickets " * 4
    customer = answer(client, invite, 1, comment, django_capture_on_commit_callbacks)
    instant = FollowUp.objects.get(customer=customer)
    today = pd.Timestamp(timezone.localdate())
    responses = pd.DataFrame(
        {
            "customer_id": [customer.pk],
            "kind": ["nps"],
            "score": [1.0],
            "responded_at": [today],
            "comment": [comment],
        }
    )
    scores = pd.DataFrame(
        {"clv": [0.0], "value_at_risk": [0.0]}, index=pd.Index([customer.pk], name="customer_id")
    )
    inputs = rules.QueueInputs(scores, pd.DataFrame(), pd.DataFrame(), responses, today)
    nightly = rules.detractor(inputs, rules.params({}, "detractor"))
    assert instant.reason_args == nightly["reason_args"].iloc[0]
    assert instant.suggested_action == rules.REGISTRY["detractor"].action
    assert instant.priority == rules.REGISTRY["detractor"].priority


def test_undo_after_a_snooze_puts_the_item_back_in_todays_queue(owner_client, invite, nps):
    invitation, _ = invite()
    item = FollowUp.objects.create(
        customer=invitation.customer,
        rule="renewal",
        reason="Renews soon",
        status="snoozed",
        snoozed_until=timezone.localdate() + timedelta(days=7),
        due=timezone.localdate(),
    )
    assert item not in FollowUp.objects.open_for_today()
    fragment = owner_client.post(f"/followups/{item.pk}/reopen/", headers=HTMX)
    assert fragment.status_code == 200 and b"<html" not in fragment.content
    assert "Snooze 1 day" in fragment.content.decode()  # the open item's buttons again
    item.refresh_from_db()
    assert item.status == "open" and item.snoozed_until is None
    assert item in FollowUp.objects.open_for_today()


def test_undo_leaves_a_done_item_done(owner_client, invite):
    invitation, _ = invite()
    item = FollowUp.objects.create(
        customer=invitation.customer, rule="renewal", reason="Renews soon", status="done"
    )
    owner_client.post(f"/followups/{item.pk}/reopen/")
    item.refresh_from_db()
    assert item.status == "done"
