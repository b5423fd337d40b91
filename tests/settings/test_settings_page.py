"""The settings page: validation, saving, "run scoring now", the account's zone and currency."""

import threading

import pytest

from customers.followups import rules
from customers.models import Interaction
from metrics import run as runs
from metrics.models import AccountSettings, ScoringRun
from tests.conftest import HTMX, make_customer

pytestmark = pytest.mark.django_db


def test_settings_validate_and_save_weights_rules_and_account(owner_client):
    page = owner_client.get("/settings/").content.decode()
    assert "Run scoring now" in page and "Renewal coming up" in page
    form = {
        "daily_capacity": 6,
        "business_name": "Northwind Records",
        "sender_email": "mia@northwind.example",
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
        "weekly_email_cap": 3,
        "quiet_start": 22,
        "quiet_end": 7,
        "digest_to": "mia@northwind.example",
        "digest_webhook": "https://hooks.example/T0/B0",
        "digest_threshold": 15,
        "detractor_alert": "on",
        "language": "zh-hans",
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
        ("payment_failed_lookback_days", 14),
    ]:
        form[f"rule_{rule}"] = value
    bad = owner_client.post("/settings/", {**form, "threshold_yellow": 80})
    assert owner_client.post("/settings/", {**form, "daily_capacity": 0}).status_code == 200
    assert owner_client.post("/settings/", {**form, "quiet_end": 24}).status_code == 200
    assert bad.status_code == 200 and "Yellow must start below green." in bad.content.decode()
    assert owner_client.post("/settings/", form).status_code == 302
    account = AccountSettings.load()
    assert account.currency == "EUR" and account.zone.key == "Asia/Shanghai"
    assert account.daily_capacity == 6
    assert (account.weekly_email_cap, account.quiet_start, account.quiet_end) == (3, 22, 7)
    assert account.digest_to == "mia@northwind.example" and account.digest_threshold == 15
    assert account.owner_language == "zh-hans" and account.detractor_alert
    assert account.from_address == "Northwind Records <mia@northwind.example>"
    assert account.health_weights["churn_risk"] == 2 and account.health_thresholds == {
        "green": 75,
        "yellow": 45,
    }
    stored = account.followup_rules
    assert rules.params(stored, "renewal") == {"enabled": False, "days": 14}
    assert rules.params(stored, "onboarding")["days"] == [7, 14, 30]
    assert rules.params(stored, "detractor")["enabled"]


def scoring_thread():
    """The page's scoring thread, or one already finished (a run that fails at once)."""
    found = [t for t in threading.enumerate() if t.name == "scoring-now"]
    if found:
        return found[0]
    finished = threading.Thread()
    finished.start()
    return finished


@pytest.mark.django_db(transaction=True)  # the run happens on the thread's own connection
def test_run_scoring_now_returns_at_once_and_the_status_shows_stage_and_percent(
    owner_client, monkeypatch
):
    make_customer()
    gate, fit = threading.Event(), runs.fit
    monkeypatch.setattr(runs, "fit", lambda run: gate.wait(10) and fit(run))
    response = owner_client.post("/settings/run/", headers=HTMX)
    fragment = response.content.decode()
    assert response.status_code == 200 and "<html" not in fragment
    assert "Running…" in fragment and "Reading the data (0% done)" in fragment
    assert '<button type="button" disabled>Scoring is running…' in fragment
    assert 'hx-trigger="every 2s"' in fragment and "Run scoring now" not in fragment
    again = owner_client.post("/settings/run/", follow=True).content.decode()
    assert "A scoring run is already in progress." in again
    assert ScoringRun.objects.get().status == "running"
    gate.set()
    scoring_thread().join(60)
    assert ScoringRun.objects.get().status == "succeeded"
    status = owner_client.get("/settings/run/status/", headers=HTMX).content.decode()
    assert "Last run finished" in status and "Run scoring now" in status
    assert 'hx-trigger="every 2s"' not in status


@pytest.mark.django_db(transaction=True)
def test_a_failed_run_started_from_the_page_shows_its_reason(owner_client, monkeypatch):
    def broken(run):
        raise ValueError("the orders table is unreadable")

    monkeypatch.setattr(runs, "fit", broken)
    owner_client.post("/settings/run/", headers=HTMX)
    scoring_thread().join(60)
    status = owner_client.get("/settings/run/status/", headers=HTMX).content.decode()
    assert "failed" in status and "Reason: ValueError: the orders table is unreadable" in status
    assert "Run scoring now" in status


def test_a_runs_stage_and_percentage_follow_its_timings():
    run = ScoringRun(customers=200, timings={})
    assert run.stage == ("Reading the data", 0)
    run.timings = {"read": 1, "rfm": 0.1, "clv_fit": 0.4}
    assert run.stage == ("Training the churn model", 14)
    run.timings.update(churn=5, segments=1, population_metrics=0.1, score_and_write=1)
    run.progress = 100
    assert run.stage == ("Scoring every customer", 81)
    run.progress = 200
    assert run.stage == ("Updating the follow-up queue", 95)


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
