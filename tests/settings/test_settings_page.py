"""The settings page: validation, saving, "run scoring now", the account's zone and currency."""

import pytest

from customers.followups import rules
from customers.models import Interaction
from metrics.models import AccountSettings, ScoringRun
from tests.conftest import HTMX, make_customer

pytestmark = pytest.mark.django_db


def test_settings_validate_and_save_weights_rules_and_account(owner_client):
    page = owner_client.get("/settings/").content.decode()
    assert "Run scoring now" in page and "Renewal coming up" in page
    form = {
        "inactive_after_days": 120,
        "horizon_days": 90,
        "clv_months": 12,
        "monthly_discount": 0.01,
        "nightly_hour": 5,
        "survey_recontact_days": 60,
        "survey_link_days": 30,
        "currency": "eur",
        "time_zone": "Asia/Shanghai",
        "weight_engagement": 1,
        "weight_purchase_trend": 1,
        "weight_satisfaction": 1,
        "weight_support": 0,
        "weight_churn_risk": 2,
        "threshold_green": 75,
        "threshold_yellow": 45,
        "rule_renewal_days": 14,
        "rule_onboarding_days": "7, 14, 30",
        "rule_detractor_enabled": "on",
    }
    for rule, value in [
        ("detractor_due_days", 2),
        ("detractor_lookback_days", 14),
        ("health_drop_points", 20),
        ("value_at_risk_top_share", 0.05),
        ("value_at_risk_min_value", 50),
        ("no_contact_days", 60),
        ("no_contact_top_share", 0.1),
        ("ticket_open_days", 3),
        ("promoter_lookback_days", 14),
    ]:
        form[f"rule_{rule}"] = value
    bad = owner_client.post("/settings/", {**form, "threshold_yellow": 80})
    assert bad.status_code == 200 and "Yellow must start below green." in bad.content.decode()
    assert owner_client.post("/settings/", form).status_code == 302
    account = AccountSettings.load()
    assert account.currency == "EUR" and account.zone.key == "Asia/Shanghai"
    assert account.health_weights["churn_risk"] == 2 and account.health_thresholds == {
        "green": 75,
        "yellow": 45,
    }
    stored = account.followup_rules
    assert rules.params(stored, "renewal") == {"enabled": False, "days": 14}
    assert rules.params(stored, "onboarding")["days"] == [7, 14, 30]
    assert rules.params(stored, "detractor")["enabled"]


def test_run_scoring_now_starts_a_run_and_the_status_partial_reports_it(
    owner_client, django_capture_on_commit_callbacks
):
    make_customer()
    with django_capture_on_commit_callbacks(execute=True):
        response = owner_client.post("/settings/run/", headers=HTMX)
    assert response.status_code == 200 and b"<html" not in response.content
    run = ScoringRun.objects.get()
    assert run.status == "succeeded"  # in-process without Redis
    status = owner_client.get("/settings/run/status/", headers=HTMX).content.decode()
    assert "Last run finished" in status and "Run scoring now" in status


def test_pages_use_the_accounts_time_zone_and_currency(owner_client, scored):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    _, (ana, *_rest) = scored
    Interaction.objects.create(
        customer=ana,
        kind="call",
        subject="Late call",
        occurred_at=datetime(2026, 1, 1, 0, 30, tzinfo=ZoneInfo("UTC")),
    )
    account = AccountSettings.load()
    account.time_zone, account.currency = "Asia/Shanghai", "EUR"
    account.save()  # also refreshes the cached display settings
    page = owner_client.get(f"/customers/{ana.pk}/").content.decode()
    assert "01/01/2026 8:30 a.m." in page
    assert "EUR" in owner_client.get("/").content.decode()
